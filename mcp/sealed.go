package mcp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// A confirmation's state travels through the client between the question
// and the answer, so any replica can redeem it: it is sealed (AES-256-GCM)
// over {version, id, expiry, request digest}. Only a holder of a state key
// can make or alter one; the expiry and digest inside are therefore the
// server's own. What sealing cannot stop, a replay, is stopped by spending
// the id once (SpentStates: in Redis for replicas, in memory otherwise).

// StateKeySize is the length of a state key, in bytes.
const StateKeySize = 32

// ParseStateKeys reads comma-separated state keys, each 32 bytes in
// hex or in standard or URL base64 (openssl rand -hex 32, -base64 32). The first seals; all
// open, so a key can be rotated without refusing the states in flight.
func ParseStateKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, err := hex.DecodeString(part)
		if err != nil || len(key) != StateKeySize {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				if key, err = enc.DecodeString(part); err == nil {
					break
				}
			}
		}
		if err != nil || len(key) != StateKeySize {
			// Neither the key nor a piece of it goes into the error.
			return nil, fmt.Errorf("state key %d: want %d random bytes in base64 or hex (openssl rand -base64 32, or -hex 32)", i+1, StateKeySize)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// SpentStates remembers the confirmations already redeemed.
type SpentStates interface {
	// Spend reports whether id was unspent, and spends it. It need be
	// remembered until expires, its state's expiry on the wall clock of
	// the process that redeems it; a store shared by processes keeps it
	// longer, by as much as their clocks may differ or step back. An error
	// means nobody can tell: the confirmation is refused.
	Spend(ctx context.Context, id string, expires time.Time) (bool, error)
}

type sealedStates struct {
	aeads []cipher.AEAD // the first seals
	spent SpentStates
	aad   []byte
}

const sealVersion = 1

// sealAAD binds a sealed state to its purpose.
var sealAAD = []byte("vast-mcp confirmation state v1")

func newSealedStates(keys [][]byte, spent SpentStates) (*sealedStates, error) {
	if len(keys) == 0 {
		key := make([]byte, StateKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		keys = [][]byte{key}
	}
	s := &sealedStates{spent: spent, aad: sealAAD}
	for _, key := range keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("state key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	if s.spent == nil {
		// Spent ids kept in this process only would let a state through
		// once more in each process that opens it, a restarted one
		// included, whatever the key: so only this one opens it.
		s.spent = NewMemorySpentStates()
		process := make([]byte, 16)
		if _, err := rand.Read(process); err != nil {
			return nil, err
		}
		s.aad = append(slices.Clip(sealAAD), process...)
	}
	return s, nil
}

const sealedLen = 1 + 16 + 8 + sha256.Size

func (s *sealedStates) seal(digest [sha256.Size]byte, expires time.Time) (string, error) {
	plain := make([]byte, 0, sealedLen)
	plain = append(plain, sealVersion)
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	plain = append(plain, id[:]...)
	plain = binary.BigEndian.AppendUint64(plain, uint64(expires.UnixNano()))
	plain = append(plain, digest[:]...)
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, s.aad)), nil
}

// open authenticates a state and returns what it holds; ok is false for
// anything not sealed by a current key (forged, altered, truncated).
func (s *sealedStates) open(state string) (id string, p pendingConfirmation, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return "", p, false
	}
	for _, aead := range s.aeads {
		if len(raw) < aead.NonceSize() {
			continue
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], s.aad)
		if err != nil || len(plain) != sealedLen || plain[0] != sealVersion {
			continue
		}
		id = base64.RawURLEncoding.EncodeToString(plain[1:17])
		p.expires = time.Unix(0, int64(binary.BigEndian.Uint64(plain[17:25])))
		copy(p.request[:], plain[25:])
		return id, p, true
	}
	return "", p, false
}

// ask returns the state to send with the question.
func (cf *confirmer) ask(digest [sha256.Size]byte) (string, error) {
	return cf.sealed.seal(digest, cf.now().Add(confirmTTL))
}

var (
	// errSpentUnknown refuses a confirmation whose single use cannot be checked.
	errSpentUnknown = errors.New("cannot check that this confirmation was not used already (the shared state store does not answer)")
	// errTooManySpent refuses once the in-process store is full.
	errTooManySpent = errors.New("too many confirmations redeemed recently")
	// errExpired refuses a state past its expiry, unspent.
	errExpired = errors.New("expired")
)

// take redeems a state once, deciding expiry on one reading of the clock.
// A forged, altered or spent state is not ok.
func (cf *confirmer) take(ctx context.Context, state string) (pendingConfirmation, bool, error) {
	id, p, ok := cf.sealed.open(state)
	if !ok {
		return p, false, nil
	}
	if !cf.now().Before(p.expires) {
		return p, false, errExpired
	}
	first, err := cf.sealed.spent.Spend(ctx, id, p.expires)
	switch {
	case errors.Is(err, errTooManySpent):
		return p, false, errTooManySpent
	case err != nil:
		return p, false, errSpentUnknown
	}
	return p, first, nil
}

// MemorySpentStates keeps spent ids in this process, each until its
// state's expiry on the wall clock, the one take decides expiry on: a
// clock stepped back keeps an id longer instead of ending it while its
// state is still valid.
type MemorySpentStates struct {
	mu    sync.Mutex
	spent map[string]time.Time
	now   func() time.Time
}

// maxSpent bounds the ids kept; each lives confirmTTL at most.
const maxSpent = 100_000

// NewMemorySpentStates returns an in-process SpentStates.
func NewMemorySpentStates() *MemorySpentStates {
	return &MemorySpentStates{spent: map[string]time.Time{}, now: time.Now}
}

// Spend implements SpentStates.
func (m *MemorySpentStates) Spend(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().Round(0) // the wall clock, without the monotonic reading
	if until, ok := m.spent[id]; ok && now.Before(until) {
		return false, nil
	}
	if len(m.spent) >= maxSpent {
		for k, until := range m.spent {
			if !now.Before(until) {
				delete(m.spent, k)
			}
		}
		if len(m.spent) >= maxSpent {
			return false, errTooManySpent
		}
	}
	m.spent[id] = expires
	return true, nil
}
