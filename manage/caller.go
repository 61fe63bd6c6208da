package manage

import "github.com/llmgateway/gateway/configs"

// Caller is who makes a management call: the master key or a team's
// virtual key.
type Caller struct {
	Master bool
	TeamID string       // the key's team ("" for the master key)
	Key    *configs.Key // nil for the master key
}

// Name is the caller as written into created_by / updated_by and the audit
// log: "master", or the key's alias and id (its token).
func (c Caller) Name() string {
	if c.Master || c.Key == nil {
		return "master"
	}
	if c.Key.KeyAlias != "" {
		return c.Key.KeyAlias + " (" + c.Key.Token + ")"
	}
	return c.Key.Token
}

// IsTeamAdmin reports whether the caller is a key of team whose user_id
// has role admin in the team's members_with_roles.
func (c Caller) IsTeamAdmin(team *configs.Team) bool {
	if c.Master || c.Key == nil || team == nil || c.TeamID != team.TeamID || c.Key.UserID == "" {
		return false
	}
	for _, m := range team.MembersWithRoles {
		if m.UserID == c.Key.UserID && m.Role == "admin" {
			return true
		}
	}
	return false
}
