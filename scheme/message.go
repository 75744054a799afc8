package scheme

import (
	"encoding/binary"
	"strconv"
)

// Message is one protocol message or system event. It is a plain value: fixed-size
// fields only (no slices, maps or pointers), so messages live in flat buffers and
// passing one never allocates.
type Message struct {
	Thread   ThreadID
	From     AgentID // sender; SystemID for system events
	To       AgentID // recipient: the other party (ignored for system events)
	Seq      uint32  // per-thread, per-sender sequence number, strictly increasing from 1
	Type     MsgType
	Stage    Stage  // attestations only
	Reason   Reason // terminate only
	Approved bool   // validated only
	Terms    Terms  // request, offer, accept (restated), attestation:start (collateral)
	Sig      [64]byte
}

// Binary layout of a Message (little endian, MessageSize bytes):
//
//	off len field
//	  0   1 version (encodingVersion)
//	  1   1 type
//	  2   1 stage
//	  3   1 reason
//	  4   1 flags (bit 0: approved; other bits must be zero)
//	  5   4 thread (int32)
//	  9   4 from (int32)
//	 13   4 to (int32)
//	 17   4 seq (uint32)
//	 21   2 gpu model      23 2 min gpu mem   25 2 gpu count   27 2 cpu cores
//	 29   4 ram GB         33 1 asset         34 1 validation
//	 35   8 duration       43 8 start         51 8 price/hour  59 8 collateral
//	 67   8 offer deadline 75 8 job deadline  83 8 arbitration deadline
//	 91  64 ed25519 signature over sigDomain || bytes [0, 91)
const (
	encodingVersion = 1
	signedSize      = 91
	// MessageSize is the length of a Message's binary encoding.
	MessageSize = signedSize + 64
)

// AppendBinary appends the fixed binary encoding of m to dst (encoding.BinaryAppender).
// It never fails; the error is always nil. Enum fields are written as they are;
// UnmarshalBinary rejects out-of-range values.
func (m *Message) AppendBinary(dst []byte) ([]byte, error) {
	dst = m.appendSigned(dst)
	return append(dst, m.Sig[:]...), nil
}

// MarshalBinary returns the fixed binary encoding of m (MessageSize bytes).
func (m *Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, MessageSize))
}

// appendSigned appends the first signedSize bytes of the encoding: everything but the
// signature.
func (m *Message) appendSigned(b []byte) []byte {
	var flags byte
	if m.Approved {
		flags = 1
	}
	le := binary.LittleEndian
	b = append(b, encodingVersion, byte(m.Type), byte(m.Stage), byte(m.Reason), flags)
	b = le.AppendUint32(b, uint32(m.Thread))
	b = le.AppendUint32(b, uint32(m.From))
	b = le.AppendUint32(b, uint32(m.To))
	b = le.AppendUint32(b, m.Seq)
	t := &m.Terms
	b = le.AppendUint16(b, t.GPUModel)
	b = le.AppendUint16(b, t.MinGPUMemGB)
	b = le.AppendUint16(b, t.GPUCount)
	b = le.AppendUint16(b, t.CPUCores)
	b = le.AppendUint32(b, t.RAMGB)
	b = append(b, byte(t.Asset), byte(t.Validation))
	b = le.AppendUint64(b, uint64(t.Duration))
	b = le.AppendUint64(b, uint64(t.Start))
	b = le.AppendUint64(b, uint64(t.PricePerHour))
	b = le.AppendUint64(b, uint64(t.Collateral))
	b = le.AppendUint64(b, uint64(t.OfferDeadline))
	b = le.AppendUint64(b, uint64(t.JobDeadline))
	b = le.AppendUint64(b, uint64(t.ArbitrationDeadline))
	return b
}

// DecodeError is returned by UnmarshalBinary; it wraps ErrBadEncoding.
type DecodeError struct {
	Offset int    // byte offset of the offending field, or -1 for a bad length
	Field  string // field name
}

func (e *DecodeError) Error() string {
	if e.Offset < 0 {
		return ErrBadEncoding.Error() + ": length must be " + strconv.Itoa(MessageSize)
	}
	return ErrBadEncoding.Error() + ": " + e.Field + " out of range at offset " + strconv.Itoa(e.Offset)
}

func (e *DecodeError) Unwrap() error { return ErrBadEncoding }

// UnmarshalBinary decodes exactly MessageSize bytes into m. It validates the version and
// the range of every enum field (type, stage, reason, flags, asset, validation) and
// returns a *DecodeError (wrapping ErrBadEncoding) otherwise, leaving m unchanged. It
// never panics. The encoding is canonical: a decoded message re-encodes to the same
// bytes, so a signature cannot be reused on a different-looking encoding.
func (m *Message) UnmarshalBinary(data []byte) error {
	if len(data) != MessageSize {
		return &DecodeError{Offset: -1, Field: "length"}
	}
	switch {
	case data[0] != encodingVersion:
		return &DecodeError{0, "version"}
	case !MsgType(data[1]).Valid():
		return &DecodeError{1, "type"}
	case data[2] >= byte(numStages):
		return &DecodeError{2, "stage"}
	case data[3] >= byte(numReasons):
		return &DecodeError{3, "reason"}
	case data[4] > 1:
		return &DecodeError{4, "flags"}
	case data[33] >= byte(numAssets):
		return &DecodeError{33, "asset"}
	case data[34] >= byte(numValidations):
		return &DecodeError{34, "validation"}
	}
	le := binary.LittleEndian
	var n Message
	n.Type = MsgType(data[1])
	n.Stage = Stage(data[2])
	n.Reason = Reason(data[3])
	n.Approved = data[4] == 1
	n.Thread = ThreadID(le.Uint32(data[5:]))
	n.From = AgentID(le.Uint32(data[9:]))
	n.To = AgentID(le.Uint32(data[13:]))
	n.Seq = le.Uint32(data[17:])
	t := &n.Terms
	t.GPUModel = le.Uint16(data[21:])
	t.MinGPUMemGB = le.Uint16(data[23:])
	t.GPUCount = le.Uint16(data[25:])
	t.CPUCores = le.Uint16(data[27:])
	t.RAMGB = le.Uint32(data[29:])
	t.Asset = Asset(data[33])
	t.Validation = Validation(data[34])
	t.Duration = int64(le.Uint64(data[35:]))
	t.Start = int64(le.Uint64(data[43:]))
	t.PricePerHour = int64(le.Uint64(data[51:]))
	t.Collateral = int64(le.Uint64(data[59:]))
	t.OfferDeadline = int64(le.Uint64(data[67:]))
	t.JobDeadline = int64(le.Uint64(data[75:]))
	t.ArbitrationDeadline = int64(le.Uint64(data[83:]))
	copy(n.Sig[:], data[signedSize:])
	*m = n
	return nil
}
