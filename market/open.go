package market

import (
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// JobTerms returns the request terms of job j at price per hour: the job's resources and
// duration, start now, the scheme's default deadlines (scheme.Config.Deadlines), oracle
// validation, and the collateral the client asks (its collateral_fraction of the job's
// cost at that price, rounded up).
func (m *Market) JobTerms(j int32, price int64) scheme.Terms {
	return m.jobTerms(&m.jobs[j].spec, price)
}

func (m *Market) jobTerms(s *JobSpec, price int64) scheme.Terms {
	now := max(m.tick, 0)
	t := scheme.Terms{
		GPUModel: s.GPUModel, MinGPUMemGB: s.MinGPUMemGB, GPUCount: s.GPUs, CPUCores: s.CPUCores, RAMGB: s.RAMGB,
		Asset: s.Asset, Validation: scheme.ValidationOracle, Duration: s.Duration, Start: now, PricePerHour: price,
	}
	t.OfferDeadline, t.JobDeadline, t.ArbitrationDeadline = m.sc.Deadlines(now, now, s.Duration)
	if cost, ok := scheme.JobCost(&t, m.tph); ok {
		if c := math.Ceil(s.CollateralFraction * float64(cost)); c < 1<<62 {
			t.Collateral = int64(c)
		}
	}
	return t
}

// openJob answers a DecideOpen decision.
func (m *Market) openJob(d *Decision, r *Response) {
	j := &m.jobs[d.Job]
	if j.state != jobPending {
		m.stats.Superseded++
		return
	}
	switch r.Type {
	case 0:
		if m.tick >= j.spec.Expires {
			m.stats.JobsExpired++
			m.freeJob(d.Job)
			return
		}
		m.deferred = append(m.deferred, *d)
		return
	case scheme.MsgTerminate:
		m.stats.JobsDeclined++
		m.freeJob(d.Job)
		return
	case scheme.MsgRequest:
	default:
		m.refuse(d.Agent, ErrBadResponse)
		m.stats.JobsDeclined++
		m.freeJob(d.Job)
		return
	}
	t := m.jobTerms(&j.spec, r.Price)
	if r.SetCollateral {
		t.Collateral = r.Collateral
	}
	cands := m.discover(&j.spec)
	if len(cands) == 0 {
		m.stats.NoCandidates++
		m.lastErr[d.Agent] = errCode(ErrNoCandidates)
		m.freeJob(d.Job)
		return
	}
	m.stats.JobsRequested++
	j.state = jobNegotiating
	j.first = scheme.ThreadID(len(m.tslot))
	j.n, j.open = 0, 0
	for _, p := range cands {
		lt := m.openThread(d.Job, p)
		j.n++
		j.open++
		msg := scheme.Message{Thread: lt.th.ID, From: j.client, To: p, Seq: 1, Type: scheme.MsgRequest, Terms: t}
		if !m.send(lt, msg, sendOpts{}) {
			// Every candidate would refuse the same terms: stop here.
			m.endThread(lt)
			return
		}
	}
}

// Check reports whether answering decision d with r now would be accepted (nil), or
// why not, without changing anything: the scheme's verdict on the message (a dry run of
// Step) and the chain's (the sender can pay what the message locks and the gas of its
// transactions, a provider that starts has the capacity). A wait is always accepted. An
// accepted request can still find no free candidate, and an accepted accept's escrow
// lock can still revert; those are market outcomes, not refusals. Environments build
// their action masks with it.
func (m *Market) Check(d *Decision, r *Response) error {
	switch d.Kind {
	case DecideRespond:
		lt := m.live(d.Thread)
		if lt == nil || lt.th.State != d.State {
			return scheme.ErrTerminal
		}
		if r.Type == 0 {
			return nil
		}
		msg := &m.checkMsg
		if err := m.build(lt, d, r, msg); err != nil {
			return err
		}
		if msg.Type == 0 {
			return nil
		}
		cp := &m.checkLT
		*cp = *lt
		effs, err := m.trial.Step(&cp.th, msg, m.tick, m.checkBuf[:0])
		m.checkBuf = effs[:0]
		if err != nil {
			return err
		}
		return m.precheck(cp, effs, [2][NumAssets]int64{})
	case DecideOpen:
		j := &m.jobs[d.Job]
		if j.state != jobPending {
			return scheme.ErrTerminal
		}
		switch r.Type {
		case 0, scheme.MsgTerminate:
			return nil
		case scheme.MsgRequest:
		default:
			return ErrBadResponse
		}
		th := &m.checkLT.th
		*th, _ = scheme.NewThread(0, j.client, j.client+1)
		m.checkMsg = scheme.Message{Thread: 0, From: j.client, To: j.client + 1, Seq: 1, Type: scheme.MsgRequest,
			Terms: m.jobTerms(&j.spec, r.Price)}
		if r.SetCollateral {
			m.checkMsg.Terms.Collateral = r.Collateral
		}
		effs, err := m.trial.Step(th, &m.checkMsg, m.tick, m.checkBuf[:0])
		m.checkBuf = effs[:0]
		return err
	case DecideTreasury:
		if r.Swap.Amount == 0 {
			return nil
		}
		return m.checkSwap(d.Agent, r.Swap)
	}
	return ErrBadResponse
}
