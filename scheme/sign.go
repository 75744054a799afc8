package scheme

import "crypto/ed25519"

// sigDomain prefixes every signed payload, so a message signature can never be taken for
// a signature over some other hivegym object.
const sigDomain = "hivegym/scheme/1"

const signedPayloadSize = len(sigDomain) + signedSize

// Keys gives the ed25519 public key of an agent, for signature mode "ed25519". It
// returns nil for an unknown agent (its messages are rejected with ErrBadSignature).
type Keys interface {
	PublicKey(id AgentID) ed25519.PublicKey
}

// KeyList is Keys backed by a slice indexed by AgentID.
type KeyList []ed25519.PublicKey

// PublicKey returns k[id], or nil if id is out of range.
func (k KeyList) PublicKey(id AgentID) ed25519.PublicKey {
	if id < 0 || int(id) >= len(k) {
		return nil
	}
	return k[id]
}

// SignedPayload appends the bytes a signature covers (sigDomain, then the encoding of
// everything but the signature) to dst.
func (m *Message) SignedPayload(dst []byte) []byte {
	dst = append(dst, sigDomain...)
	return m.appendSigned(dst)
}

// Sign sets m.Sig to the ed25519 signature by priv of m's signed payload. Set every
// other field first.
func Sign(m *Message, priv ed25519.PrivateKey) {
	var buf [signedPayloadSize]byte
	copy(m.Sig[:], ed25519.Sign(priv, m.SignedPayload(buf[:0])))
}

// Verify reports whether m.Sig is a valid ed25519 signature of m's signed payload by pub
// (crypto/ed25519 rules: RFC 8032 with canonical s, cofactorless equation).
func Verify(m *Message, pub ed25519.PublicKey) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	var buf [signedPayloadSize]byte
	return ed25519.Verify(pub, m.SignedPayload(buf[:0]), m.Sig[:])
}
