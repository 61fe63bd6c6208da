package manage

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// KeyRequest is the body of /key/generate and /key/update. A nil field was
// not sent.
type KeyRequest struct {
	Key      *string         `json:"key"` // /key/update: the key or its token
	TeamID   *string         `json:"team_id"`
	KeyAlias *string         `json:"key_alias"`
	UserID   *string         `json:"user_id"`
	Models   *[]string       `json:"models"`
	Duration *string         `json:"duration"`
	Metadata *map[string]any `json:"metadata"`
	Blocked  *bool           `json:"blocked"`
	LimitsRequest
}

// NewSecret returns a new virtual key: "sk-" and 192 random bits.
func NewSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a key: %w", err)
	}
	return "sk-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewKey builds a key from a /key/generate request. It returns the secret,
// shown once, and the key as stored (its sha256 only).
func NewKey(req KeyRequest, by string, now time.Time) (string, *configs.Key, *Error) {
	secret, err := NewSecret()
	if err != nil {
		return "", nil, &Error{Status: 500, Message: err.Error()}
	}
	at := now.UTC().Truncate(time.Second)
	k := &configs.Key{Token: configs.HashKey(secret), KeyName: configs.MaskKey(secret), CreatedAt: &at, CreatedBy: by, UpdatedAt: &at, UpdatedBy: by}
	if e := applyKey(k, req, by, now); e != nil {
		return "", nil, e
	}
	return secret, k, nil
}

// UpdateKey returns a copy of cur with the fields sent in req changed.
func UpdateKey(cur *configs.Key, req KeyRequest, by string, now time.Time) (*configs.Key, *Error) {
	k := cloneKey(cur)
	if e := applyKey(k, req, by, now); e != nil {
		return nil, e
	}
	touchKey(k, by, now)
	return k, nil
}

// Regenerate returns a new secret for cur and the key with its new token;
// the old value stops working. The key stays the same key: its spend id
// (key_id, set to the first token on the first regenerate) keeps its
// spend, budget period and counters, and its limits and set_by stay.
func Regenerate(cur *configs.Key, by string, now time.Time) (string, *configs.Key, *Error) {
	secret, err := NewSecret()
	if err != nil {
		return "", nil, &Error{Status: 500, Message: err.Error()}
	}
	k := cloneKey(cur)
	k.KeyID = cur.SpendID()
	k.Token, k.KeyName = configs.HashKey(secret), configs.MaskKey(secret)
	touchKey(k, by, now)
	return secret, k, nil
}

func touchKey(k *configs.Key, by string, now time.Time) {
	at := now.UTC().Truncate(time.Second)
	k.UpdatedAt, k.UpdatedBy = &at, by
}

func applyKey(k *configs.Key, req KeyRequest, by string, now time.Time) *Error {
	if req.KeyAlias != nil {
		if strings.TrimSpace(*req.KeyAlias) == "" {
			return BadRequest("key_alias", "key_alias is empty; name the key or leave the field out")
		}
		k.KeyAlias = *req.KeyAlias
	}
	if req.UserID != nil {
		k.UserID = *req.UserID
	}
	if req.Models != nil {
		if e := nonEmpty("models", *req.Models); e != nil {
			return e
		}
		k.Models = slices.Clone(*req.Models)
		setBy(&k.SetBy, "models", by)
		if len(k.Models) == 0 {
			setBy(&k.SetBy, "models", "")
		}
	}
	if req.Duration != nil {
		if *req.Duration == "" {
			k.Expires = nil
		} else {
			exp, err := configs.AddBudgetDuration(now.UTC().Truncate(time.Second), *req.Duration)
			if err != nil {
				return BadRequest("duration", "duration %q is not a positive number followed by s, m, h or d (e.g. 30s 30m 30h 30d); leave it out for a key that never expires", *req.Duration)
			}
			k.Expires = &exp
		}
		setBy(&k.SetBy, "expires", by)
		if k.Expires == nil {
			setBy(&k.SetBy, "expires", "")
		}
	}
	if req.Metadata != nil {
		k.Metadata = maps.Clone(*req.Metadata)
	}
	if req.Blocked != nil {
		k.Blocked = *req.Blocked
		if k.Blocked {
			setBy(&k.SetBy, "blocked", by)
		} else {
			setBy(&k.SetBy, "blocked", "")
		}
	}
	return req.LimitsRequest.apply(&k.Limits, by)
}

// FindKey finds a key by its value ("sk-...") or its token (sha256 hex).
func FindKey(snap *configs.Snapshot, keyOrToken string) (*configs.Team, *configs.Key) {
	token := strings.ToLower(strings.TrimSpace(keyOrToken))
	if !isToken(token) {
		token = configs.HashKey(strings.TrimSpace(keyOrToken))
	}
	for _, t := range snap.Teams {
		for _, k := range t.Keys {
			if k.Token == token {
				return t, k
			}
		}
	}
	return nil, nil
}

func isToken(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ReplaceKey returns a copy of team with the key whose token is old
// replaced by k (or removed when k is nil).
func ReplaceKey(team *configs.Team, old string, k *configs.Key, by string, now time.Time) *configs.Team {
	t := CloneTeam(team)
	out := t.Keys[:0]
	for _, cur := range t.Keys {
		switch {
		case cur.Token != old:
			out = append(out, cur)
		case k != nil:
			out = append(out, k)
		}
	}
	t.Keys = out
	if len(t.Keys) == 0 {
		t.Keys = nil
	}
	Touch(t, by, now)
	return t
}
