package market

// Event kinds of the engine's calendar.
const (
	evTimer    uint8 = iota + 1 // a thread's deadline or idle-timeout check (scheme Tick)
	evLand                      // the client's escrow lock transaction lands
	evComplete                  // a running job's work is done
	evFail                      // a running job fails (reliability)
	evValidate                  // the validator judges a delivered result
)

// event is one entry of the calendar: at tick at, do kind for thread id. seq orders
// events of the same tick by insertion, so the calendar is deterministic.
type event struct {
	at   int64
	seq  uint32
	kind uint8
	id   int32
}

func (a *event) before(b *event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// eventHeap is a binary min-heap of events on a slice (no container/heap, so pushing and
// popping neither box nor allocate once the slice has grown).
type eventHeap []event

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// peek returns the earliest event; ok is false when the heap is empty.
func (h eventHeap) peek() (event, bool) {
	if len(h) == 0 {
		return event{}, false
	}
	return h[0], true
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && s[r].before(&s[l]) {
			c = r
		}
		if !s[c].before(&s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

func (m *Market) schedule(at int64, kind uint8, id int32) {
	m.evSeq++
	m.events.push(event{at: at, seq: m.evSeq, kind: kind, id: id})
}
