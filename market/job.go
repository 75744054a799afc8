package market

import (
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// HistoryLen is how many of a thread's latest prices (the request's and the offers')
// the engine keeps for observations.
const HistoryLen = 8

// Job states.
const (
	jobFree        uint8 = iota // slot unused
	jobPending                  // arrived, awaiting the client's open decision
	jobNegotiating              // requests sent
	jobDealt                    // an offer was accepted
)

// job is a client's job, in a pool of slots reused after the job ends.
type job struct {
	spec   JobSpec
	client AgentID
	first  scheme.ThreadID // first of the job's threads (they are opened together)
	n      int32           // threads opened
	open   int32           // threads not ended
	deal   scheme.ThreadID // thread whose offer was accepted, -1
	state  uint8
}

// liveThread is a thread that has not ended, in a pool of slots reused after it ends
// (Market.tslot maps a ThreadID to its slot, -1 once ended; the chain keeps its own
// record of every thread forever).
type liveThread struct {
	th       scheme.Thread
	job      int32
	opened   int64
	timer    int64 // tick of the pending timer event, math.MaxInt64 if none
	started  int64 // tick the job started running
	powerW   float64
	reserved bool // capacity reserved on the provider
	used     bool
	missing  bool // the provider reported the escrow missing; a late lock is delivered to it
	buy      UID
	sell     UID
	hist     [HistoryLen]int64
	histFrom uint16 // bit i set: hist[i] came from the provider
	histN    uint8
}

// live returns the live thread with id, or nil if it ended or never existed.
func (m *Market) live(id scheme.ThreadID) *liveThread {
	if uint32(id) >= uint32(len(m.tslot)) {
		return nil
	}
	s := m.tslot[id]
	if s < 0 {
		return nil
	}
	return &m.threads[s]
}

// openThread opens a chain thread between the job's client and provider p and gives it
// a live slot.
func (m *Market) openThread(j int32, p AgentID) *liveThread {
	c := m.jobs[j].client
	tid, err := m.chain.OpenThread(AccountID(c), AccountID(p))
	if err != nil {
		panic("market: open thread: " + err.Error()) // both accounts exist and differ
	}
	if int(tid) != len(m.tslot) {
		panic("market: chain thread ids out of step") // internal invariant
	}
	var s int32
	if n := len(m.freeThreads); n > 0 {
		s = m.freeThreads[n-1]
		m.freeThreads = m.freeThreads[:n-1]
	} else {
		s = int32(len(m.threads))
		m.threads = append(m.threads, liveThread{})
	}
	m.tslot = append(m.tslot, s)
	lt := &m.threads[s]
	th, err := scheme.NewThread(scheme.ThreadID(tid), c, p)
	if err != nil {
		panic("market: new thread: " + err.Error())
	}
	*lt = liveThread{th: th, job: j, opened: m.tick, timer: math.MaxInt64, used: true}
	m.stats.Threads++
	return lt
}

// pushPrice records a price of the thread's history.
func (lt *liveThread) pushPrice(price int64, fromProvider bool) {
	if lt.histN == HistoryLen {
		copy(lt.hist[:], lt.hist[1:])
		lt.histFrom >>= 1
		lt.histN--
	}
	lt.hist[lt.histN] = price
	if fromProvider {
		lt.histFrom |= 1 << lt.histN
	}
	lt.histN++
}

// allocJob takes a free job slot.
func (m *Market) allocJob() int32 {
	if n := len(m.freeJobs); n > 0 {
		j := m.freeJobs[n-1]
		m.freeJobs = m.freeJobs[:n-1]
		return j
	}
	m.jobs = append(m.jobs, job{})
	return int32(len(m.jobs) - 1)
}

func (m *Market) freeJob(j int32) {
	m.jobs[j].state = jobFree
	m.freeJobs = append(m.freeJobs, j)
}

// arrive draws this tick's job arrivals: the superposition of the clients' Poisson
// processes is Poisson with the sum of their rates, and each arrival belongs to client i
// with probability rate_i / sum (alias table), so the cost is per arrival, not per
// client.
func (m *Market) arrive() {
	if !(m.arrivals.total > 0) {
		return
	}
	n := poisson(m.rArr, m.arrivals.total)
	for range n {
		ci := m.arrivals.sample(m.rArr)
		cl := &m.cli[ci]
		cc := &m.cclass[cl.class]
		cfg := cc.cfg
		spec := JobSpec{
			GPUModel: cc.gpuModel, MinGPUMemGB: uint16(cfg.MinGPUMemGB), Asset: cc.asset,
			CollateralFraction: cfg.CollateralFraction, Arrival: m.tick,
			Expires: m.tick + int64(cfg.MaxWaitTicks),
		}
		spec.GPUs = uint16(cfg.GPUs.sample(m.rJob))
		spec.CPUCores = uint16(cfg.CPUCores.sample(m.rJob))
		spec.RAMGB = uint32(cfg.RAMGB.sample(m.rJob))
		hours := cfg.DurationHours.sample(m.rJob)
		spec.Duration = max(1, int64(math.Ceil(hours*float64(m.tph)-1e-9)))
		if spec.GPUs == 0 && spec.CPUCores == 0 {
			spec.CPUCores = 1
		}
		v := cfg.ValueUSDPerUnitHour.sample(m.rJob)
		spec.ValueUSD = v * float64(spec.Units()) * spec.Hours(m.tph)
		m.stats.JobsArrived++
		if !m.anyClassFits(&spec) {
			m.stats.NoCandidates++
			continue
		}
		j := m.allocJob()
		m.jobs[j] = job{spec: spec, client: cl.agent, deal: -1, first: -1, state: jobPending}
		m.queue = append(m.queue, Decision{Agent: cl.agent, Kind: DecideOpen, Role: scheme.RoleClient,
			Thread: -1, Job: j, Allowed: scheme.SetOf(scheme.MsgRequest, scheme.MsgTerminate)})
	}
}

// classFits reports whether a machine of provider class pc can ever hold the job.
func classFits(pc *provClass, s *JobSpec) bool {
	if s.GPUs > 0 {
		if int32(s.GPUs) > pc.gpus || (s.GPUModel != 0 && s.GPUModel != pc.gpuModel) || pc.gpuMem < float64(s.MinGPUMemGB) {
			return false
		}
	}
	return int32(s.CPUCores) <= pc.cpu && int64(s.RAMGB) <= int64(pc.ram)
}

func (m *Market) anyClassFits(s *JobSpec) bool {
	for i := range m.pclass {
		if len(m.pclass[i].members) > 0 && classFits(&m.pclass[i], s) {
			return true
		}
	}
	return false
}

// freeFits reports whether provider p has the free capacity for terms t now.
func (m *Market) freeFits(p *provider, gpus, cpu uint16, ram uint32) bool {
	return int32(gpus) <= p.freeGPU && int32(cpu) <= p.freeCPU && int64(ram) <= int64(p.freeRAM)
}

// discover fills m.cand with up to Discovery.Candidates distinct active providers whose
// machine can hold the job and who have the free capacity for it now, drawn uniformly
// from the directory with the discovery stream. It looks at no more than a bounded
// number of providers, so its cost does not grow with the population.
func (m *Market) discover(s *JobSpec) []AgentID {
	k := m.cfg.Discovery.Candidates
	m.cand = m.cand[:0]
	var classes [64]int16
	nc, total := 0, 0
	for i := range m.pclass {
		pc := &m.pclass[i]
		if len(pc.members) > 0 && classFits(pc, s) && nc < len(classes) {
			classes[nc] = int16(i)
			nc++
			total += len(pc.members)
		}
	}
	if total == 0 {
		return m.cand
	}
	pick := func(x int) AgentID {
		for _, c := range classes[:nc] {
			mem := m.pclass[c].members
			if x < len(mem) {
				return mem[x]
			}
			x -= len(mem)
		}
		panic("market: discovery index out of range")
	}
	consider := func(a AgentID) {
		for _, b := range m.cand {
			if a == b {
				return
			}
		}
		p := &m.prov[m.slot[a]]
		if m.freeFits(p, s.GPUs, s.CPUCores, s.RAMGB) {
			m.cand = append(m.cand, a)
		}
	}
	if total <= 4*k {
		// Small directory: walk it from a random offset.
		off := m.rDisc.IntN(total)
		for i := 0; i < total && len(m.cand) < k; i++ {
			consider(pick((off + i) % total))
		}
		return m.cand
	}
	for tries := 0; tries < 8*k && len(m.cand) < k; tries++ {
		consider(pick(m.rDisc.IntN(total)))
	}
	return m.cand
}
