package litellmimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/manage"
)

// Options say where the import writes and how.
type Options struct {
	// ConfigPath is the gateway's settings file ("" = the embedded
	// default); its salt key encrypts the upstream keys written.
	ConfigPath string
	TeamsDir   string
	ModelsDir  string
	// DryRun writes nothing: the import runs on a copy of the folders and
	// the report lists what it would write.
	DryRun bool
	// Env resolves os.environ/ in the settings and gives LITELLM_SALT_KEY
	// / LITELLM_MASTER_KEY (default os.LookupEnv).
	Env func(string) (string, bool)
	// Now stamps created_at / updated_at (default time.Now).
	Now func() time.Time
}

// Import writes the teams, keys and models of d into the folders, each
// through the management API's builders (package manage) and the store's
// writer (confstore.Store.Mutate), so the files are those the API would
// write. An object whose id is already present is left as it is, so a
// second run changes nothing. It returns the report of what was and was
// not carried over; an error means nothing could be imported (a bad
// settings file, unreadable folders).
func Import(d *Dump, opts Options) (*Report, error) {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Report{DryRun: opts.DryRun}
	teamsDir, modelsDir := opts.TeamsDir, opts.ModelsDir
	if teamsDir == "" || modelsDir == "" {
		return nil, errors.New("the teams and models folders are required (--teams-dir, --models-dir)")
	}
	if opts.DryRun {
		tmp, err := os.MkdirTemp("", "gateway-import-dry-run-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		r.display = map[string]string{}
		for _, c := range []struct{ src, dst string }{{opts.TeamsDir, filepath.Join(tmp, "teams.d")}, {opts.ModelsDir, filepath.Join(tmp, "models.d")}} {
			if err := copyTree(c.src, c.dst); err != nil {
				return nil, fmt.Errorf("copying %s for the dry run: %w", c.src, err)
			}
			r.display[c.dst] = c.src
		}
		teamsDir, modelsDir = filepath.Join(tmp, "teams.d"), filepath.Join(tmp, "models.d")
	}
	for _, dir := range []string{teamsDir, modelsDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	store, problems, err := confstore.Open(confstore.Options{ConfigPath: opts.ConfigPath, TeamsDir: teamsDir, ModelsDir: modelsDir,
		Env: opts.Env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	if store == nil {
		var lines []string
		for _, p := range problems {
			if !p.Warning {
				lines = append(lines, p.String())
			}
		}
		return nil, fmt.Errorf("the gateway's configuration is invalid, fix it before importing:\n  %s", strings.Join(lines, "\n  "))
	}
	for _, p := range problems {
		// Which variable the gateway's salt key came from (a LiteLLM
		// deployment's LITELLM_SALT_KEY, say), or that it is missing.
		if s := p.String(); p.Warning && (strings.Contains(s, "salt_key") || strings.Contains(s, "LITELLM_")) {
			r.note("%s", s)
		}
	}
	im := &importer{opts: opts, store: store, r: r, teamsDir: teamsDir, modelsDir: modelsDir, caller: manage.Caller{Master: true}}
	im.litellmSalt = im.saltKey()
	if store.Snapshot().Settings.SaltKey == "" {
		r.note("the gateway has no salt key (general_settings.salt_key, GATEWAY_SALT_KEY): models with an upstream key cannot be imported; set it to the key the gateway runs with and import again")
	}
	im.run(d)
	return r, nil
}

type importer struct {
	opts                Options
	store               *confstore.Store
	r                   *Report
	teamsDir, modelsDir string
	caller              manage.Caller
	litellmSalt         string
	// aliases are the teams' model aliases, set once the models exist.
	aliases map[string]map[string]string
}

// saltKey is LiteLLM's: LITELLM_SALT_KEY, else its master key.
func (im *importer) saltKey() string {
	if v, ok := im.opts.Env("LITELLM_SALT_KEY"); ok && v != "" {
		im.r.SaltKeyFrom = "LITELLM_SALT_KEY"
		return v
	}
	if v, ok := im.opts.Env("LITELLM_MASTER_KEY"); ok && v != "" {
		im.r.SaltKeyFrom = "LITELLM_MASTER_KEY"
		return v
	}
	return ""
}

func (im *importer) run(d *Dump) {
	im.aliases = map[string]map[string]string{}
	keysByTeam := map[string][]json.RawMessage{}
	for _, row := range d.Keys {
		var k struct {
			TeamID *string `json:"team_id"`
		}
		_ = json.Unmarshal(row, &k)
		keysByTeam[str(k.TeamID)] = append(keysByTeam[str(k.TeamID)], row)
	}
	teams := map[string]bool{}
	for i, row := range d.Teams {
		id := im.team(i, row, d, keysByTeam)
		if id != "" {
			teams[id] = true
		}
	}
	// Keys whose team is not in LiteLLM's team table.
	var orphans []string
	for id := range keysByTeam {
		if !teams[id] {
			orphans = append(orphans, id)
		}
	}
	slices.Sort(orphans)
	for _, id := range orphans {
		for _, row := range keysByTeam[id] {
			im.r.Keys.Skipped++
			var k ltKey
			_, _, _ = decodeRow(row, &k)
			if id == "" {
				im.r.item("%s: has no team_id; every gateway key belongs to a team: give it a team in LiteLLM (or create the key anew) and import again", keyLabel(&k))
			} else {
				im.r.item("%s: its team %q is not in %s (or was not imported); skipped", keyLabel(&k), id, TeamTable)
			}
		}
	}
	for i, row := range d.Models {
		im.model(i, row)
	}
	im.teamAliases()
	for _, n := range notCarried {
		if c := d.Skipped[n.table]; c > 0 {
			im.r.Tables = append(im.r.Tables, fmt.Sprintf("%s: %d rows, %s", n.table, c, n.what))
		}
	}
}

// write makes one change through the store, as an API write does.
func (im *importer) write(w confstore.Write, fn func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error)) error {
	var written []confstore.Change
	_, err := im.store.Mutate(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, error) {
		changes, e := fn(cur, in)
		if e != nil {
			return nil, errors.New(e.Message)
		}
		written = changes
		return changes, nil
	})
	if err != nil {
		return err
	}
	for _, c := range written {
		im.r.file(c.Path)
	}
	return nil
}

// team imports one team row and its keys; it returns the team id ("" when
// the row is unusable).
func (im *importer) team(i int, row json.RawMessage, d *Dump, keysByTeam map[string][]json.RawMessage) string {
	var lt ltTeam
	cols, bad, err := decodeRow(row, &lt)
	if err != nil {
		im.r.Teams.Skipped++
		im.r.item("%s row %d: %v; skipped", TeamTable, i+1, err)
		return ""
	}
	label := fmt.Sprintf("team %q", lt.TeamID)
	if lt.TeamID == "" {
		im.r.Teams.Skipped++
		im.r.item("%s row %d: no team_id; skipped", TeamTable, i+1)
		return ""
	}
	lost := append(bad, uncarried(cols, teamCarried)...)
	if e := manage.ValidID("team_id", lt.TeamID); e != nil {
		im.r.Teams.Skipped++
		im.r.item("%s: %s; skipped with its keys", label, e.Message)
		im.r.Keys.Skipped += len(keysByTeam[lt.TeamID])
		return lt.TeamID
	}
	req, notes := teamRequest(&lt)
	for _, n := range notes {
		im.r.item("%s: %s", label, n)
	}
	if lt.ModelID != nil {
		if a, ok := d.Aliases[*lt.ModelID]; ok {
			m, ok := object(a)
			aliases := map[string]string{}
			for k, v := range m {
				if s, isStr := v.(string); isStr && k != "" && s != "" {
					aliases[k] = s
				} else {
					ok = false
				}
			}
			if !ok {
				im.r.item("%s: model aliases (%s) that are not a map of names; not carried over", label, AliasTable)
			}
			if len(aliases) > 0 {
				im.aliases[lt.TeamID] = aliases
			}
		}
	}
	now := im.opts.Now()
	if len(lost) > 0 {
		im.r.item("%s: not carried over: %s", label, strings.Join(lost, ", "))
	}
	seen := map[string]bool{}
	var keys []*pendingKey
	for _, kr := range keysByTeam[lt.TeamID] {
		if pk := im.keyFor(lt.TeamID, kr, now, seen); pk != nil {
			keys = append(keys, pk)
		}
	}
	if im.store.Snapshot().Teams[lt.TeamID] != nil {
		im.r.Teams.Existing++
		im.addKeys(lt.TeamID, keys, now)
		return lt.TeamID
	}
	t, e := manage.NewTeam(req, im.caller.Name(), now)
	if e != nil {
		im.r.Teams.Skipped++
		im.r.item("%s: %s; skipped with its keys", label, e.Message)
		im.r.Keys.Skipped += len(keys)
		return lt.TeamID
	}
	if at, ok := parseTime(str(lt.CreatedAt)); ok {
		t.CreatedAt = &at
	}
	newTeam := func(t *configs.Team) error {
		w := confstore.Write{Endpoint: "import-litellm", Actor: im.caller.Name(), TeamID: t.TeamID, ObjectID: t.TeamID, Summary: "import team " + t.TeamID}
		return im.write(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
			ch, e := manage.NewTeamFile(in, im.teamsDir, t)
			return []confstore.Change{ch}, e
		})
	}
	// The team with all its keys in one write; if that one is refused,
	// the team alone and then each key, so one bad key does not keep
	// the others out.
	if len(keys) > 0 {
		withKeys := manage.CloneTeam(t)
		for _, pk := range keys {
			withKeys.Keys = append(withKeys.Keys, pk.k)
		}
		if err := newTeam(withKeys); err == nil {
			im.r.Teams.Imported++
			for _, pk := range keys {
				im.keyWritten(pk)
			}
			return lt.TeamID
		}
	}
	if err := newTeam(t); err != nil {
		im.r.Teams.Skipped++
		im.r.item("%s: not written: %v; skipped with its keys", label, err)
		im.r.Keys.Skipped += len(keys)
		return lt.TeamID
	}
	im.r.Teams.Imported++
	im.addKeys(lt.TeamID, keys, now)
	return lt.TeamID
}

// pendingKey is a converted key waiting to be written.
type pendingKey struct {
	k     *configs.Key
	label string
	lost  []string
}

// addKeys adds keys to the existing team teamID: in one write, else one
// by one.
func (im *importer) addKeys(teamID string, keys []*pendingKey, now time.Time) {
	add := func(ks []*pendingKey) error {
		w := confstore.Write{Endpoint: "import-litellm", Actor: im.caller.Name(), TeamID: teamID, ObjectID: ks[0].k.Token,
			Summary: fmt.Sprintf("import %d keys for team %s", len(ks), teamID)}
		return im.write(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
			t := cur.Teams[teamID]
			if t == nil {
				return nil, manage.TeamNotFound("team_id", teamID)
			}
			nt := manage.CloneTeam(t)
			for _, pk := range ks {
				nt.Keys = append(nt.Keys, pk.k)
			}
			manage.Touch(nt, im.caller.Name(), now)
			ch, e := manage.TeamFile(in, t, nt)
			return []confstore.Change{ch}, e
		})
	}
	if len(keys) == 0 {
		return
	}
	if len(keys) > 1 && add(keys) == nil {
		for _, pk := range keys {
			im.keyWritten(pk)
		}
		return
	}
	for _, pk := range keys {
		if err := add([]*pendingKey{pk}); err != nil {
			im.r.Keys.Skipped++
			im.r.item("%s: not written: %v; skipped", pk.label, err)
			continue
		}
		im.keyWritten(pk)
	}
}

func (im *importer) keyWritten(pk *pendingKey) {
	im.r.Keys.Imported++
	if len(pk.lost) > 0 {
		im.r.item("%s: not carried over: %s", pk.label, strings.Join(pk.lost, ", "))
	}
}

// teamRequest is the /team/new request for a LiteLLM team.
func teamRequest(lt *ltTeam) (manage.TeamRequest, []string) {
	var notes []string
	id := lt.TeamID
	req := manage.TeamRequest{TeamID: &id}
	if a := strings.TrimSpace(str(lt.TeamAlias)); a != "" {
		req.TeamAlias = lt.TeamAlias
	}
	if lt.OrganizationID != nil && *lt.OrganizationID != "" {
		req.OrganizationID = lt.OrganizationID
	}
	members := []configs.Member{}
	add := func(m configs.Member) {
		for i := range members {
			if members[i].UserID == m.UserID {
				return
			}
		}
		members = append(members, m)
	}
	var mwr []map[string]any
	if !isEmpty(lt.MembersWithRoles) {
		if err := json.Unmarshal(lt.MembersWithRoles, &mwr); err != nil {
			var s string
			if json.Unmarshal(lt.MembersWithRoles, &s) != nil || json.Unmarshal([]byte(s), &mwr) != nil {
				notes = append(notes, "members_with_roles is not a list of members; not carried over")
			}
		}
	}
	for i, m := range mwr {
		uid, _ := m["user_id"].(string)
		role, _ := m["role"].(string)
		switch {
		case strings.TrimSpace(uid) == "":
			notes = append(notes, fmt.Sprintf("members_with_roles[%d] has no user_id (only an email?); not carried over", i))
		case role != "admin" && role != "user":
			notes = append(notes, fmt.Sprintf("member %q has role %q; the gateway knows admin and user: carried over as user", uid, role))
			add(configs.Member{UserID: uid, Role: "user"})
		default:
			add(configs.Member{UserID: uid, Role: role})
		}
	}
	for _, uid := range lt.Admins {
		if strings.TrimSpace(uid) != "" {
			add(configs.Member{UserID: uid, Role: "admin"})
		}
	}
	for _, uid := range lt.Members {
		if strings.TrimSpace(uid) != "" {
			add(configs.Member{UserID: uid, Role: "user"})
		}
	}
	if len(members) > 0 {
		req.MembersWithRoles = &members
	}
	if md, ok := object(lt.Metadata); !ok {
		notes = append(notes, "metadata is not a JSON object; not carried over")
	} else if md, dropped := withoutSecrets(md); len(md) > 0 || dropped != "" {
		if len(md) > 0 {
			req.Metadata = &md
		}
		if dropped != "" {
			notes = append(notes, dropped)
		}
	}
	notes = append(notes, limitsRequest(&req.LimitsRequest, lt.TPMLimit, lt.RPMLimit, lt.MaxParallel, lt.MaxBudget, lt.BudgetDuration)...)
	if models, note := modelList(lt.Models, "all-proxy-models"); len(models) > 0 {
		req.Models = &models
	} else if note != "" {
		notes = append(notes, note)
	}
	if lt.Blocked != nil && *lt.Blocked {
		b := true
		req.Blocked = &b
	}
	return req, notes
}

// modelList drops empty names and LiteLLM's "all models" marker (all is
// the gateway's meaning of no list).
func modelList(in []string, all string) ([]string, string) {
	var out []string
	for _, m := range in {
		if m == all {
			return nil, ""
		}
		if strings.TrimSpace(m) != "" {
			out = append(out, m)
		}
	}
	return out, ""
}

func limitsRequest(l *manage.LimitsRequest, tpm, rpm, parallel *int64, budget *float64, duration *string) []string {
	var notes []string
	for _, f := range []struct {
		v   *int64
		dst *manage.Nullable[int64]
	}{{tpm, &l.TPMLimit}, {rpm, &l.RPMLimit}, {parallel, &l.MaxParallel}} {
		if f.v != nil {
			*f.dst = manage.Nullable[int64]{Set: true, V: *f.v}
		}
	}
	if budget != nil {
		l.MaxBudget = manage.Nullable[float64]{Set: true, V: *budget}
	}
	if d := strings.TrimSpace(str(duration)); d != "" {
		if _, _, err := configs.ParseBudgetDuration(d); err != nil {
			notes = append(notes, fmt.Sprintf("budget_duration %q is not one the gateway knows (s, m, h, d, w, mo); not carried over: the budget never resets", d))
		} else {
			l.BudgetDuration = manage.Nullable[string]{Set: true, V: d}
		}
	}
	return notes
}

// maskedName is LiteLLM's key_name ("sk-...abcd") as the gateway shows
// it; a name that is not masked (it could be the key) is masked here.
func maskedName(name string) string {
	if name == "" {
		return "sk-..."
	}
	if strings.Contains(name, "...") && len(name) <= 16 {
		return name
	}
	return configs.MaskKey(name)
}

// secretMetadata are metadata keys that may hold credentials (LiteLLM's
// team and key logging callbacks carry their vendors' keys there); they
// are never written to a file.
var secretMetadata = []string{"logging", "callback_settings", "secret", "password", "api_key", "apikey", "credential", "token", "private_key"}

// withoutSecrets returns md without the keys that may hold a secret, and
// a note naming them ("" when none).
func withoutSecrets(md map[string]any) (map[string]any, string) {
	var dropped []string
	out := map[string]any{}
	for k, v := range md {
		lk := strings.ToLower(k)
		secret := false
		for _, s := range secretMetadata {
			if strings.Contains(lk, s) {
				secret = true
				break
			}
		}
		if secret {
			dropped = append(dropped, k)
			continue
		}
		out[k] = v
	}
	if len(dropped) == 0 {
		return md, ""
	}
	slices.Sort(dropped)
	return out, fmt.Sprintf("metadata.%s may hold credentials (e.g. logging callbacks' keys); not carried over: set them up again in the gateway's own settings",
		strings.Join(dropped, ", metadata."))
}

func keyLabel(k *ltKey) string {
	name := str(k.KeyAlias)
	if name == "" {
		name = maskedName(str(k.KeyName))
	}
	// Only a hash is shown, never a token that is not one (an old
	// LiteLLM's unhashed key would be the secret itself).
	tok := "not a hash"
	if t := strings.ToLower(strings.TrimSpace(k.Token)); isHexToken(t) {
		tok = t[:8] + "…"
	}
	if name == "" {
		return fmt.Sprintf("key (token %s)", tok)
	}
	return fmt.Sprintf("key %q (token %s)", name, tok)
}

// keyFor converts one key row of team teamID: nil when it is skipped or
// already present (counted and reported). seen are the tokens already
// taken for this team's write.
func (im *importer) keyFor(teamID string, row json.RawMessage, now time.Time, seen map[string]bool) *pendingKey {
	var lk ltKey
	cols, bad, err := decodeRow(row, &lk)
	if err != nil {
		im.r.Keys.Skipped++
		im.r.item("a key of team %q: %v; skipped", teamID, err)
		return nil
	}
	label := keyLabel(&lk)
	token := strings.ToLower(strings.TrimSpace(lk.Token))
	if !isHexToken(token) {
		im.r.Keys.Skipped++
		im.r.item("%s: its token is not a sha256 hex digest (an unhashed key from an old LiteLLM?); skipped: create the key anew", label)
		return nil
	}
	lost := append(bad, uncarried(cols, keyCarried)...)
	req := manage.KeyRequest{}
	var notes []string
	if a := strings.TrimSpace(str(lk.KeyAlias)); a != "" {
		req.KeyAlias = lk.KeyAlias
	}
	if u := str(lk.UserID); u != "" {
		req.UserID = lk.UserID
	}
	if models, _ := modelList(lk.Models, "all-team-models"); len(models) > 0 {
		req.Models = &models
	}
	if md, ok := object(lk.Metadata); !ok {
		notes = append(notes, "metadata is not a JSON object; not carried over")
	} else if md, dropped := withoutSecrets(md); len(md) > 0 || dropped != "" {
		if len(md) > 0 {
			req.Metadata = &md
		}
		if dropped != "" {
			notes = append(notes, dropped)
		}
	}
	if lk.Blocked != nil && *lk.Blocked {
		b := true
		req.Blocked = &b
	}
	if routes := allowedRoutes(lk.AllowedRoutes, &notes); len(routes) > 0 {
		req.AllowedRoutes = &routes
	}
	notes = append(notes, limitsRequest(&req.LimitsRequest, lk.TPMLimit, lk.RPMLimit, lk.MaxParallel, lk.MaxBudget, lk.BudgetDuration)...)
	var expires *time.Time
	if e := str(lk.Expires); e != "" {
		at, ok := parseTime(e)
		if !ok {
			im.r.Keys.Skipped++
			im.r.item("%s: expires %q is not a timestamp; skipped (it would never expire)", label, e)
			return nil
		}
		expires = &at
		if at.Before(now) {
			notes = append(notes, "expired on "+at.Format(time.RFC3339)+" (carried over, still refused)")
		}
	}
	for _, n := range notes {
		im.r.item("%s: %s", label, n)
	}
	if t, k := manage.FindKey(im.store.Snapshot(), token); k != nil || seen[token] {
		im.r.Keys.Existing++
		if k != nil && t.TeamID != teamID {
			im.r.item("%s: already present in team %q (LiteLLM has it in %q); left as it is", label, t.TeamID, teamID)
		}
		return nil
	}
	_, k, e := manage.NewKey(req, im.caller.Name(), now)
	if e != nil {
		im.r.Keys.Skipped++
		im.r.item("%s: %s; skipped", label, e.Message)
		return nil
	}
	// The key's own hash, carried over: LiteLLM stores sha256 hex too.
	k.Token = token
	k.KeyName = maskedName(str(lk.KeyName))
	if expires != nil {
		k.Expires = expires
		if k.SetBy == nil {
			k.SetBy = map[string]string{}
		}
		k.SetBy["expires"] = im.caller.Name()
	}
	if at, ok := parseTime(str(lk.CreatedAt)); ok {
		k.CreatedAt = &at
	}
	seen[token] = true
	return &pendingKey{k: k, label: label, lost: lost}
}

func isHexToken(s string) bool {
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

// dropInfo are model_info keys the import does not copy: the ones it sets
// itself and LiteLLM's own bookkeeping.
var dropInfo = []string{"id", "team_id", "team_public_model_name", "db_model", "created_at", "created_by", "updated_at", "updated_by"}

// model imports one model row.
func (im *importer) model(i int, row json.RawMessage) {
	var lm ltModel
	cols, bad, err := decodeRow(row, &lm)
	if err != nil {
		im.r.Models.Skipped++
		im.r.item("%s row %d: %v; skipped", ModelTable, i+1, err)
		return
	}
	label := fmt.Sprintf("model %q", lm.ModelID)
	lost := append(bad, uncarried(cols, modelCarried)...)
	if e := manage.ValidID("model_info.id", lm.ModelID); e != nil {
		im.r.Models.Skipped++
		im.r.item("%s row %d: %s; skipped", ModelTable, i+1, e.Message)
		return
	}
	if lm.Blocked != nil && *lm.Blocked {
		im.r.Models.Skipped++
		im.r.item("%s: blocked in LiteLLM; not imported (the gateway has no blocked models)", label)
		return
	}
	info, ok := object(lm.ModelInfo)
	if !ok {
		im.r.Models.Skipped++
		im.r.item("%s: model_info is not a JSON object; skipped", label)
		return
	}
	teamID, _ := info["team_id"].(string)
	public := lm.ModelName
	if teamID != "" {
		if p, _ := info["team_public_model_name"].(string); strings.TrimSpace(p) != "" {
			public = p
		}
		label = fmt.Sprintf("model %q of team %q", lm.ModelID, teamID)
	}
	params, notes, ok := im.params(lm.LiteLLMParams)
	for _, n := range notes {
		im.r.item("%s: %s", label, n)
	}
	if !ok {
		im.r.Models.Skipped++
		im.r.item("%s: skipped", label)
		return
	}
	cur := im.store.Snapshot()
	if manage.FindModel(cur, lm.ModelID) != nil {
		im.r.Models.Existing++
		return
	}
	if teamID != "" && cur.Teams[teamID] == nil {
		im.r.Models.Skipped++
		im.r.item("%s: its team is not in the gateway (not in %s, or skipped); skipped", label, TeamTable)
		return
	}
	extra := maps.Clone(info)
	for _, k := range dropInfo {
		delete(extra, k)
	}
	infoJSON, _ := json.Marshal(extra)
	paramsJSON, _ := json.Marshal(params)
	p, e := manage.ParseModel(manage.ModelRequest{ModelName: &public, LiteLLMParams: paramsJSON, ModelInfo: infoJSON})
	if e != nil {
		im.r.Models.Skipped++
		im.r.item("%s: %s; skipped", label, e.Message)
		return
	}
	now := im.opts.Now()
	w := confstore.Write{Endpoint: "import-litellm", Actor: im.caller.Name(), TeamID: teamID, ObjectID: lm.ModelID, Summary: "import model " + public}
	if err := im.write(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		s := cur.Settings
		pol := manage.ModelPolicy{SaltKey: s.SaltKey, SaltKeyPrevious: s.SaltKeyPrevious, APIBase: egress.New(s.TeamAPIBaseAllow, s.TeamAPIBaseDeny, egress.HostAddrs())}
		d, e := manage.NewDeployment(p, teamID, lm.ModelID, im.caller, pol, now)
		if e != nil {
			return nil, e
		}
		ch, e := manage.NewModelFile(in, im.modelsDir, d)
		return []confstore.Change{ch}, e
	}); err != nil {
		im.r.Models.Skipped++
		im.r.item("%s: not written: %v; skipped", label, err)
		return
	}
	im.r.Models.Imported++
	if len(lost) > 0 {
		im.r.item("%s: not carried over: %s", label, strings.Join(lost, ", "))
	}
}

// params decrypts a model's litellm_params (LiteLLM encrypts every string
// value) and keeps those the gateway knows. ok is false when a value
// does not decrypt (the model would not work).
func (im *importer) params(raw json.RawMessage) (out map[string]any, notes []string, ok bool) {
	m, isObj := object(raw)
	if !isObj || len(m) == 0 {
		return nil, []string{"litellm_params is missing or not a JSON object"}, false
	}
	out = map[string]any{}
	ok = true
	names := slices.Sorted(maps.Keys(m))
	for _, k := range names {
		v := m[k]
		if s, isStr := v.(string); isStr {
			plain, err := openValue(im.litellmSalt, s)
			if err != nil {
				notes = append(notes, fmt.Sprintf("litellm_params.%s %v", k, err))
				ok = false
				continue
			}
			v = plain
			if strings.HasPrefix(plain, configs.EnvPrefix) {
				notes = append(notes, fmt.Sprintf("litellm_params.%s reads %s from the gateway's environment: set it there", k, strings.TrimPrefix(plain, configs.EnvPrefix)))
			}
		}
		if !slices.Contains(manage.AcceptedParams, k) {
			if b, _ := json.Marshal(v); !isEmpty(b) {
				what := "a parameter the gateway does not know"
				if k == "litellm_credential_name" {
					what = "a reference to LiteLLM_CredentialsTable, which is not imported: add the credential's values to the model"
				}
				notes = append(notes, fmt.Sprintf("litellm_params.%s is %s; not carried over", k, what))
			}
			continue
		}
		out[k] = v
	}
	return out, notes, ok
}

// openValue is the plaintext of one stored string: decrypted when it is a
// LiteLLM ciphertext, as it is otherwise.
func openValue(salt, v string) (string, error) {
	plain, err := Decrypt(salt, v)
	switch {
	case err == nil:
		return plain, nil
	case errors.Is(err, ErrNotEncrypted):
		return v, nil
	default:
		return "", err
	}
}

// teamAliases sets the LiteLLM teams' model aliases on teams that have
// none yet, once their models exist (the gateway checks alias targets).
func (im *importer) teamAliases() {
	for _, id := range slices.Sorted(maps.Keys(im.aliases)) {
		aliases := im.aliases[id]
		t := im.store.Snapshot().Teams[id]
		if t == nil || len(t.ModelAliases) > 0 {
			continue
		}
		now := im.opts.Now()
		w := confstore.Write{Endpoint: "import-litellm", Actor: im.caller.Name(), TeamID: id, ObjectID: id, Summary: "import model aliases of team " + id}
		if err := im.write(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
			t := cur.Teams[id]
			if t == nil {
				return nil, manage.TeamNotFound("team_id", id)
			}
			nt, e := manage.UpdateTeam(t, manage.TeamRequest{ModelAliases: &aliases}, im.caller.Name(), now)
			if e != nil {
				return nil, e
			}
			ch, e := manage.TeamFile(in, t, nt)
			return []confstore.Change{ch}, e
		}); err != nil {
			im.r.item("team %q: model aliases not carried over: %v", id, err)
		}
	}
}

// copyTree copies the regular files under src to dst (a missing src is
// an empty tree).
func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p == src {
				return filepath.SkipAll
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	return err
}

// allowedRoutes keeps the allowed_routes entries the gateway knows; one
// it does not is noted and left out, and a key none of whose entries is
// kept (so it may call every route) gets a note saying to restrict it
// again.
func allowedRoutes(routes []string, notes *[]string) []string {
	var out []string
	for _, r := range routes {
		if why := configs.CheckAllowedRoute(r); why != "" {
			*notes = append(*notes, fmt.Sprintf("allowed_routes entry %q %s; not carried over", r, why))
			continue
		}
		out = append(out, r)
	}
	if len(routes) > 0 && len(out) == 0 {
		*notes = append(*notes, "no allowed_routes entry carried over: the key may call every route; restrict it again with /key/update")
	}
	return out
}
