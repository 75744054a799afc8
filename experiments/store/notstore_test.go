package store

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenExistingLeavesOtherFilesAlone: reading commands (runs list/show/export, merge
// inputs, report --store) open stores with OpenExisting. An empty file or another
// program's SQLite database is not a store: it must be refused with ErrNotStore and left
// byte for byte as it was, not migrated into a store (which used to happen).
func TestOpenExistingLeavesOtherFilesAlone(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{empty, other} {
		before, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := OpenExisting(p); !errors.Is(err, ErrNotStore) {
			if s != nil {
				s.Close()
			}
			t.Errorf("OpenExisting(%s) = %v, want ErrNotStore", filepath.Base(p), err)
		}
		after, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("%s changed: %d bytes before, %d after", filepath.Base(p), len(before), len(after))
		}
	}
	// A real store still opens, and Open still creates one in an empty file.
	if s, err := Open(empty); err != nil {
		t.Fatalf("Open(empty file): %v", err)
	} else {
		s.Close()
	}
	s, err := OpenExisting(empty)
	if err != nil {
		t.Fatalf("OpenExisting of a store: %v", err)
	}
	s.Close()
}
