package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Owner names this process as the runner of a claimed run: "host/pid".
func Owner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + "/" + strconv.Itoa(os.Getpid())
}

// Alive reports whether the process owner names may still be running its run: false
// only when it is a process of this host that no longer exists (killed, crashed). A
// process on another host cannot be checked and counts as alive.
func Alive(owner string) bool {
	host, pid, ok := strings.Cut(owner, "/")
	if !ok {
		return false
	}
	me, err := os.Hostname()
	if err != nil || me == "" {
		me = "localhost"
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	if host != me {
		return true
	}
	return processExists(n)
}

// Claim marks run id running by owner, in one transaction, if it is free: pending,
// failed (a retry), or running by a process that is gone (alive(owner) false; Alive is
// the usual check). It returns false, and changes nothing, when the run is done or
// running by another live process, which is how two sweeps resumed on one store share its pending runs instead
// of both running every one.
func (s *Store) Claim(ctx context.Context, id, owner string, alive func(string) bool) (bool, error) {
	claimed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, id).Scan(&status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		switch Status(status) {
		case StatusDone:
			return nil
		case StatusRunning:
			var cur string
			err := tx.QueryRowContext(ctx, `SELECT owner FROM claims WHERE run = ?`, id).Scan(&cur)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err == nil && cur != owner && alive(cur) {
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = '' WHERE id = ?`, string(StatusRunning), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO claims (run, owner) VALUES (?, ?) ON CONFLICT (run) DO UPDATE SET owner = excluded.owner`, id, owner); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store %s: claim run %s: %w", s.path, id, err)
	}
	return claimed, nil
}

// Owners returns the owner of every run that has been claimed, by run id. Only a
// running run's owner is current; the others are history.
func (s *Store) Owners(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run, owner FROM claims`)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			return nil, fmt.Errorf("store %s: %w", s.path, err)
		}
		out[id] = owner
	}
	return out, rows.Err()
}
