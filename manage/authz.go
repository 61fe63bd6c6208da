package manage

import "github.com/llmgateway/gateway/configs"

// The authorization matrix of the management API. Anything not granted
// here is a 403; a missing or invalid key is a 401 before any of these.
//
//	master only:              /team/new /team/update /team/delete /team/block /team/unblock, global models
//	master or any team key:   /team/info, /team/list (own team), team models (own team), /model/info (filtered)
//	master or team-admin key: /team/member_add /team/member_delete, /key/generate /key/list and key changes
//	the key itself:           /key/info of the calling key

const noMasterKey = "; no master key is configured: set GATEWAY_MASTER_KEY (general_settings.master_key: os.environ/GATEWAY_MASTER_KEY) and restart"

// RequireMaster allows only the master key.
func RequireMaster(c Caller, s configs.Settings, what string) *Error {
	if c.Master {
		return nil
	}
	if s.MasterKey == "" {
		return Forbidden("%s needs the master key%s", what, noMasterKey)
	}
	return Forbidden("%s needs the master key; a team key may not do this", what)
}

// RequireTeamKey allows the master key and any key of team teamID.
func RequireTeamKey(c Caller, teamID, what string) *Error {
	if c.Master || (c.TeamID != "" && c.TeamID == teamID) {
		return nil
	}
	return Forbidden("%s: this key belongs to another team; a team key acts for its own team only", what)
}

// RequireTeamAdmin allows the master key and a team-admin key of team.
func RequireTeamAdmin(c Caller, s configs.Settings, team *configs.Team, teamID, what string) *Error {
	if c.Master {
		return nil
	}
	if c.TeamID != teamID {
		return Forbidden("%s: this key belongs to another team; a team key acts for its own team only", what)
	}
	if c.IsTeamAdmin(team) {
		return nil
	}
	msg := "%s needs the master key or a team-admin key (a key whose user_id has role admin in the team's members_with_roles)"
	if s.MasterKey == "" {
		return Forbidden(msg+noMasterKey, what)
	}
	return Forbidden(msg, what)
}
