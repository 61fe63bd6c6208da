package configs

import (
	"time"
)

// GatewayFile is the --config file: a LiteLLM config.yaml superset.
type GatewayFile struct {
	ModelList       []*Deployment   `yaml:"model_list"`
	GeneralSettings GeneralSettings `yaml:"general_settings"`
	RouterSettings  RouterSettings  `yaml:"router_settings"`
	LiteLLMSettings LiteLLMSettings `yaml:"litellm_settings"`
	GitOps          GitOpsSettings  `yaml:"gitops"`
}

// GeneralSettings holds the proxy-wide settings. Unknown keys here are
// warnings, not errors, so a LiteLLM config loads unchanged.
type GeneralSettings struct {
	MasterKey string `yaml:"master_key"`
	SaltKey   string `yaml:"salt_key"`
	// MetricsKey, when set, lets a scraper read GET /metrics' per-team
	// series without the master key (a secret: os.environ/NAME or enc:).
	MetricsKey string `yaml:"metrics_key"`
	// SaltKeyPrevious is the salt key of before a rotation, for decryption
	// only (os.environ/NAME; absent: os.environ/GATEWAY_SALT_KEY_PREVIOUS
	// when that variable is set). See `gateway rotate-salt`.
	SaltKeyPrevious string `yaml:"salt_key_previous"`
	// MaxRequestBodyMB caps a request body (default 8).
	MaxRequestBodyMB float64 `yaml:"max_request_size_mb"`
	// TeamAPIBaseAllow / TeamAPIBaseDeny restrict the api_base a team key
	// may register (host names and CIDRs).
	TeamAPIBaseAllow []string `yaml:"team_api_base_allow"`
	TeamAPIBaseDeny  []string `yaml:"team_api_base_deny"`
	// RescanInterval is the periodic full rescan of the config folders
	// (a Go duration such as "30s"; default 30s).
	RescanInterval string `yaml:"rescan_interval"`
	// MaxTeamModels bounds the deployments one team may have (default
	// 100); /model/new refuses more.
	MaxTeamModels int `yaml:"max_team_models"`
	// MaxConfigFileBytes caps each teams.d and models.d file (default
	// 1 MiB); a bigger file is refused unread.
	MaxConfigFileBytes int64 `yaml:"max_config_file_bytes"`
	// BackgroundHealthChecks and HealthCheckInterval (seconds), where
	// LiteLLM has them; router_settings' win when both are set.
	BackgroundHealthChecks *bool    `yaml:"background_health_checks"`
	HealthCheckInterval    *float64 `yaml:"health_check_interval"`
	// DatabaseURL, LiteLLM's setting (usually os.environ/DATABASE_URL):
	// a postgres:// URL puts the usage log, spend totals and budget
	// periods in PostgreSQL; absent, they stay in --state-dir.
	DatabaseURL string `yaml:"database_url"`
	// SpendLogsRetention is how long per-request rows and rollups are
	// kept (a duration such as 30d, 12h, 2w; default 30d).
	SpendLogsRetention string `yaml:"spend_logs_retention"`
	// DisableSpendLogs (LiteLLM's setting) turns the per-request usage
	// log off: spend totals and budgets still count, the reports stay
	// empty. Read at start.
	DisableSpendLogs bool `yaml:"disable_spend_logs"`
	// AlertingWebhookURL receives a JSON POST when a key crosses its
	// soft_budget (os.environ/NAME allowed; it is a secret URL).
	AlertingWebhookURL string `yaml:"alerting_webhook_url"`
	// BudgetResetCalendar: budget_duration 1d, 1w and 1mo reset at
	// midnight, on Monday and on the 1st in BudgetResetTimezone (LiteLLM's
	// calendar resets) instead of rolling periods from the first spend.
	BudgetResetCalendar bool   `yaml:"budget_reset_calendar"`
	BudgetResetTimezone string `yaml:"budget_reset_timezone"`
}

// RouterSettings holds routing defaults, as LiteLLM's router_settings
// names them; routersettings.go resolves them into Settings.Router.
// Durations are in seconds. Unknown keys are warnings.
type RouterSettings struct {
	// Timeout is the default upstream timeout in seconds (default 600).
	Timeout                float64               `yaml:"timeout"`
	RoutingStrategy        *string               `yaml:"routing_strategy"`
	RoutingStrategyArgs    *RoutingStrategyArgs  `yaml:"routing_strategy_args"`
	NumRetries             *int                  `yaml:"num_retries"`
	RetryAfter             *float64              `yaml:"retry_after"`
	AllowedFails           *int                  `yaml:"allowed_fails"`
	CooldownTime           *float64              `yaml:"cooldown_time"`
	RetryPolicy            *RetryPolicySettings  `yaml:"retry_policy"`
	Fallbacks              []map[string][]string `yaml:"fallbacks"`
	ContextWindowFallbacks []map[string][]string `yaml:"context_window_fallbacks"`
	ContentPolicyFallbacks []map[string][]string `yaml:"content_policy_fallbacks"`
	DefaultFallbacks       []string              `yaml:"default_fallbacks"`
	// ModelGroupAlias values are a group's name or, as LiteLLM also
	// allows, {model: <group>, hidden: true}.
	ModelGroupAlias        map[string]any `yaml:"model_group_alias"`
	StreamFirstByteTimeout *float64       `yaml:"stream_first_byte_timeout"`
	EnablePreCallChecks    *bool          `yaml:"enable_pre_call_checks"`
	BackgroundHealthChecks *bool          `yaml:"background_health_checks"`
	HealthCheckInterval    *float64       `yaml:"health_check_interval"`
}

// RoutingStrategyArgs is router_settings.routing_strategy_args (other
// LiteLLM keys there are warnings).
type RoutingStrategyArgs struct {
	LowestLatencyBuffer *float64 `yaml:"lowest_latency_buffer"`
}

// RetryPolicySettings is router_settings.retry_policy with LiteLLM's keys.
type RetryPolicySettings struct {
	TimeoutErrorRetries                *int `yaml:"TimeoutErrorRetries"`
	RateLimitErrorRetries              *int `yaml:"RateLimitErrorRetries"`
	InternalServerErrorRetries         *int `yaml:"InternalServerErrorRetries"`
	ContentPolicyViolationErrorRetries *int `yaml:"ContentPolicyViolationErrorRetries"`
	AuthenticationErrorRetries         *int `yaml:"AuthenticationErrorRetries"`
	BadRequestErrorRetries             *int `yaml:"BadRequestErrorRetries"`
}

// LiteLLMSettings are the routing keys LiteLLM also reads from
// litellm_settings; router_settings wins when both set one. Other keys
// are warnings (the gateway ignores them).
type LiteLLMSettings struct {
	NumRetries             *int                  `yaml:"num_retries"`
	RequestTimeout         *float64              `yaml:"request_timeout"`
	AllowedFails           *int                  `yaml:"allowed_fails"`
	CooldownTime           *float64              `yaml:"cooldown_time"`
	Fallbacks              []map[string][]string `yaml:"fallbacks"`
	ContextWindowFallbacks []map[string][]string `yaml:"context_window_fallbacks"`
	ContentPolicyFallbacks []map[string][]string `yaml:"content_policy_fallbacks"`
	DefaultFallbacks       []string              `yaml:"default_fallbacks"`
}

// GitOpsSettings controls committing the management API's write-backs.
type GitOpsSettings struct {
	Commit      bool   `yaml:"commit"`
	Push        bool   `yaml:"push"`
	Remote      string `yaml:"remote"`
	Branch      string `yaml:"branch"`
	AuthorName  string `yaml:"author_name"`
	AuthorEmail string `yaml:"author_email"`
}

// Member is one entry of a team's members_with_roles.
type Member struct {
	UserID string `yaml:"user_id" json:"user_id"`
	Role   string `yaml:"role" json:"role"` // "admin" or "user"
}

// Limits are the governance fields shared by teams and keys. A nil
// pointer means unlimited.
type Limits struct {
	TPMLimit            *int64   `yaml:"tpm_limit,omitempty" json:"tpm_limit"`
	RPMLimit            *int64   `yaml:"rpm_limit,omitempty" json:"rpm_limit"`
	MaxParallelRequests *int64   `yaml:"max_parallel_requests,omitempty" json:"max_parallel_requests"`
	MaxBudget           *float64 `yaml:"max_budget,omitempty" json:"max_budget"`
	BudgetDuration      string   `yaml:"budget_duration,omitempty" json:"budget_duration"`
	// SetBy records who last set each limit (and "blocked"): "master", or
	// the team key that set it. The management API writes it; a limit
	// the master set changes only with the master key, and a limit that
	// has no entry counts as set by the master (a reviewed file).
	SetBy map[string]string `yaml:"set_by,omitempty" json:"set_by,omitempty"`
}

// Team is one teams.d/*.yaml file.
type Team struct {
	TeamID           string         `yaml:"team_id" json:"team_id"`
	TeamAlias        string         `yaml:"team_alias,omitempty" json:"team_alias"`
	OrganizationID   *string        `yaml:"organization_id,omitempty" json:"organization_id"`
	MembersWithRoles []Member       `yaml:"members_with_roles,omitempty" json:"members_with_roles"`
	Metadata         map[string]any `yaml:"metadata,omitempty" json:"metadata"`
	Models           []string       `yaml:"models,omitempty" json:"models"`
	Blocked          bool           `yaml:"blocked,omitempty" json:"blocked"`
	Limits           `yaml:",inline"`
	Tags             []string          `yaml:"tags,omitempty" json:"tags"`
	Guardrails       []string          `yaml:"guardrails,omitempty" json:"guardrails"`
	ModelAliases     map[string]string `yaml:"model_aliases,omitempty" json:"model_aliases"`
	// Fallbacks are the team's own fallbacks by its public names, in
	// LiteLLM's shape: [{"my-model": ["my-other-model"]}].
	Fallbacks []map[string][]string `yaml:"fallbacks,omitempty" json:"fallbacks,omitempty"`
	Keys      []*Key                `yaml:"keys,omitempty" json:"-"`
	CreatedAt *time.Time            `yaml:"created_at,omitempty" json:"created_at"`
	CreatedBy string                `yaml:"created_by,omitempty" json:"created_by,omitempty"`
	UpdatedAt *time.Time            `yaml:"updated_at,omitempty" json:"updated_at,omitempty"`
	UpdatedBy string                `yaml:"updated_by,omitempty" json:"updated_by,omitempty"`

	// Source is where the team was defined (not serialized).
	Source Pos `yaml:"-" json:"-"`
}

// Key is a virtual key. Only the sha256 of the key is ever stored.
type Key struct {
	Token string `yaml:"token" json:"token"` // lowercase hex sha256 of the whole key
	// KeyID names the key's spend record and counters when it differs
	// from Token: /key/regenerate sets it to the first token, so that
	// spend and the budget period survive a new key value.
	KeyID    string         `yaml:"key_id,omitempty" json:"key_id,omitempty"`
	KeyName  string         `yaml:"key_name,omitempty" json:"key_name"`
	KeyAlias string         `yaml:"key_alias,omitempty" json:"key_alias"`
	UserID   string         `yaml:"user_id,omitempty" json:"user_id"`
	Models   []string       `yaml:"models,omitempty" json:"models"`
	Expires  *time.Time     `yaml:"expires,omitempty" json:"expires"`
	Blocked  bool           `yaml:"blocked,omitempty" json:"blocked"`
	Metadata map[string]any `yaml:"metadata,omitempty" json:"metadata"`
	Limits   `yaml:",inline"`
	// Tags label the key's usage records (with its team's and the
	// request's metadata.tags); see KeyFieldLimits for the bounds.
	Tags []string `yaml:"tags,omitempty" json:"tags"`
	// AllowedRoutes limits the endpoints the key may call: paths
	// ("/chat/completions", "/v1/embeddings", "/key/*") or LiteLLM's
	// route groups (llm_api_routes, openai_routes, info_routes,
	// management_routes). Empty: every route its role allows.
	AllowedRoutes []string `yaml:"allowed_routes,omitempty" json:"allowed_routes"`
	// SoftBudget is a spend (USD, in the key's budget period) past which
	// the gateway warns (log, metric, response header, alerting webhook)
	// without refusing calls.
	SoftBudget *float64 `yaml:"soft_budget,omitempty" json:"soft_budget"`
	// ModelMaxBudget, ModelRPMLimit and ModelTPMLimit are per-model limits
	// of this key, by the model name the client calls.
	ModelMaxBudget map[string]*ModelBudget `yaml:"model_max_budget,omitempty" json:"model_max_budget"`
	ModelRPMLimit  map[string]int64        `yaml:"model_rpm_limit,omitempty" json:"model_rpm_limit"`
	ModelTPMLimit  map[string]int64        `yaml:"model_tpm_limit,omitempty" json:"model_tpm_limit"`
	CreatedAt      *time.Time              `yaml:"created_at,omitempty" json:"created_at"`
	CreatedBy      string                  `yaml:"created_by,omitempty" json:"created_by,omitempty"`
	UpdatedAt      *time.Time              `yaml:"updated_at,omitempty" json:"updated_at,omitempty"`
	UpdatedBy      string                  `yaml:"updated_by,omitempty" json:"updated_by,omitempty"`

	Source Pos `yaml:"-" json:"-"`
}

// ModelBudget is one entry of a key's model_max_budget, in LiteLLM's
// shape: {budget_limit: 5, time_period: 1d}. An absent time_period never
// resets.
type ModelBudget struct {
	BudgetLimit float64 `yaml:"budget_limit" json:"budget_limit"`
	TimePeriod  string  `yaml:"time_period,omitempty" json:"time_period,omitempty"`
}

// ModelsFile is one models.d/**/*.yaml file.
type ModelsFile struct {
	ModelList []*Deployment `yaml:"model_list"`
}

// Deployment is one entry of a model_list.
type Deployment struct {
	ModelName     string        `yaml:"model_name" json:"model_name"`
	LiteLLMParams LiteLLMParams `yaml:"litellm_params" json:"litellm_params"`
	ModelInfo     ModelInfo     `yaml:"model_info,omitempty" json:"model_info"`

	// Resolved at load time, never serialized.
	Source        Pos    `yaml:"-" json:"-"` // where the deployment was defined
	Provider      string `yaml:"-" json:"-"` // "openai", "azure", "mock"
	UpstreamModel string `yaml:"-" json:"-"` // model without its provider prefix
	APIKey        string `yaml:"-" json:"-"` // resolved secret (os.environ/, enc:v1:, enc:v2: or literal)
	// Credentials are the other secret litellm_params, resolved like
	// APIKey (credentials.go).
	Credentials Credentials `yaml:"-" json:"-"`
	// envRefs: as written, the deployment used values only the operator
	// may (see OperatorCredentials); resolution replaces them.
	envRefs bool
}

// LiteLLMParams are the accepted litellm_params; anything else is an error.
type LiteLLMParams struct {
	Model              string   `yaml:"model" json:"model"`
	APIBase            string   `yaml:"api_base,omitempty" json:"api_base,omitempty"`
	APIVersion         string   `yaml:"api_version,omitempty" json:"api_version,omitempty"`
	APIKey             string   `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	CustomLLMProvider  string   `yaml:"custom_llm_provider,omitempty" json:"custom_llm_provider,omitempty"`
	Organization       string   `yaml:"organization,omitempty" json:"organization,omitempty"`
	Timeout            *float64 `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	StreamTimeout      *float64 `yaml:"stream_timeout,omitempty" json:"stream_timeout,omitempty"`
	MaxRetries         *int     `yaml:"max_retries,omitempty" json:"max_retries,omitempty"`
	RPM                *int64   `yaml:"rpm,omitempty" json:"rpm,omitempty"`
	TPM                *int64   `yaml:"tpm,omitempty" json:"tpm,omitempty"`
	InputCostPerToken  *float64 `yaml:"input_cost_per_token,omitempty" json:"input_cost_per_token,omitempty"`
	OutputCostPerToken *float64 `yaml:"output_cost_per_token,omitempty" json:"output_cost_per_token,omitempty"`
	MockResponse       string   `yaml:"mock_response,omitempty" json:"mock_response,omitempty"`
	// Weight is the deployment's share under simple-shuffle (relative to
	// the group's others; default: by rpm/tpm capacity, else equal).
	Weight *float64 `yaml:"weight,omitempty" json:"weight,omitempty"`
	// Order is the deployment's priority: order 1 is used while any of
	// the group's order-1 deployments is available, then 2, ... (absent:
	// after every ordered one).
	Order *int `yaml:"order,omitempty" json:"order,omitempty"`
	// StreamIncludeUsage: false stops the gateway asking this deployment's
	// upstream for stream usage (stream_options.include_usage), for an
	// OpenAI-compatible server that rejects it; the gateway then counts
	// stream tokens with a tokenizer. Absent: ask where the upstream
	// accepts it (openai, Azure api_version >= 2024-10-21).
	StreamIncludeUsage *bool `yaml:"stream_include_usage,omitempty" json:"stream_include_usage,omitempty"`

	// Cloud credentials, named as LiteLLM names them (credentials.go). The
	// secret ones (SecretParams) are resolved like api_key into
	// Deployment.Credentials; the others may be os.environ/NAME like
	// api_base.

	// AWS (bedrock/): static keys, or aws_role_name (+ aws_session_name)
	// assumed with STS; aws_bedrock_runtime_endpoint replaces the regional
	// endpoint and passes the api_base policy.
	AWSAccessKeyID            string `yaml:"aws_access_key_id,omitempty" json:"aws_access_key_id,omitempty"`
	AWSSecretAccessKey        string `yaml:"aws_secret_access_key,omitempty" json:"aws_secret_access_key,omitempty"`
	AWSSessionToken           string `yaml:"aws_session_token,omitempty" json:"aws_session_token,omitempty"`
	AWSRegionName             string `yaml:"aws_region_name,omitempty" json:"aws_region_name,omitempty"`
	AWSRoleName               string `yaml:"aws_role_name,omitempty" json:"aws_role_name,omitempty"`
	AWSSessionName            string `yaml:"aws_session_name,omitempty" json:"aws_session_name,omitempty"`
	AWSBedrockRuntimeEndpoint string `yaml:"aws_bedrock_runtime_endpoint,omitempty" json:"aws_bedrock_runtime_endpoint,omitempty"`
	AWSSTSEndpoint            string `yaml:"aws_sts_endpoint,omitempty" json:"aws_sts_endpoint,omitempty"`
	// Google (vertex_ai/): project, location and a service account's JSON
	// key (inline, encrypted, os.environ/NAME, or for the operator's own
	// deployments a file path).
	VertexProject     string `yaml:"vertex_project,omitempty" json:"vertex_project,omitempty"`
	VertexLocation    string `yaml:"vertex_location,omitempty" json:"vertex_location,omitempty"`
	VertexCredentials string `yaml:"vertex_credentials,omitempty" json:"vertex_credentials,omitempty"`
	// Microsoft Entra ID (azure/, azure_ai/): a service principal's
	// client credentials, or a ready azure_ad_token; azure_authority_host
	// replaces https://login.microsoftonline.com (sovereign clouds).
	TenantID           string `yaml:"tenant_id,omitempty" json:"tenant_id,omitempty"`
	ClientID           string `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	ClientSecret       string `yaml:"client_secret,omitempty" json:"client_secret,omitempty"`
	AzureADToken       string `yaml:"azure_ad_token,omitempty" json:"azure_ad_token,omitempty"`
	AzureAuthorityHost string `yaml:"azure_authority_host,omitempty" json:"azure_authority_host,omitempty"`
}

// ModelInfo accepts any extra keys; they are kept in Extra and returned by
// /model/info.
type ModelInfo struct {
	ID                  string         `yaml:"id,omitempty" json:"id"`
	TeamID              string         `yaml:"team_id,omitempty" json:"team_id,omitempty"`
	TeamPublicModelName string         `yaml:"team_public_model_name,omitempty" json:"team_public_model_name,omitempty"`
	BaseModel           string         `yaml:"base_model,omitempty" json:"base_model,omitempty"`
	Extra               map[string]any `yaml:",inline" json:"-"`
}

// Pos is a position in a file, for file:line:col messages.
type Pos struct {
	File string
	Line int
	Col  int
}

// Settings are the resolved gateway-wide settings of a snapshot.
type Settings struct {
	MasterKey        string        // "" means no master key: the management API answers 403
	SaltKey          string        // "" means raw upstream keys cannot be accepted by the API
	MetricsKey       string        // "" means only the master key sees GET /metrics' per-team series
	SaltKeyPrevious  string        // decryption only, while a rotation is under way ("" otherwise)
	Timeout          time.Duration // default upstream timeout
	MaxRequestBody   int           // bytes
	TeamAPIBaseAllow []string
	TeamAPIBaseDeny  []string
	RescanInterval   time.Duration
	GitOps           GitOpsSettings
	MaxTeamModels    int // most deployments one team may have
	// MaxConfigFileBytes caps each teams.d and models.d file.
	MaxConfigFileBytes int64
	// Router is the routing configuration (router.go).
	Router Router
	// DatabaseURL is the resolved general_settings.database_url ("" =
	// the embedded store in --state-dir). A secret: never logged.
	DatabaseURL string
	// SpendLogsRetention bounds the usage log's age (default 30 days).
	SpendLogsRetention time.Duration
	// DisableSpendLogs turns the per-request usage log off.
	DisableSpendLogs bool
	// AlertingWebhookURL is the resolved soft-budget webhook ("" = none).
	AlertingWebhookURL string
	// BudgetReset is where calendar budget periods start (nil: rolling
	// periods, the default).
	BudgetReset *time.Location
}

// DefaultSpendLogsRetention is general_settings.spend_logs_retention's
// default.
const DefaultSpendLogsRetention = 30 * 24 * time.Hour

// Snapshot is one immutable, validated view of the whole configuration.
// Nothing in it may be modified after Build returns it.
type Snapshot struct {
	Settings Settings
	// Teams by team_id.
	Teams map[string]*Team
	// Global deployments (from --config model_list and models.d files whose
	// deployments have no model_info.team_id), in file order.
	Global []*Deployment
	// TeamDeployments by team_id, in file order.
	TeamDeployments map[string][]*Deployment
	// Files maps every loaded file path to the sha256 of its content.
	Files map[string]string
	// Hash is the sha256 over all file paths and contents.
	Hash string
}

// SpendID is the name of a key's spend record and counters: KeyID, or
// the token for a key never regenerated.
func (k *Key) SpendID() string {
	if k.KeyID != "" {
		return k.KeyID
	}
	return k.Token
}

// PublicName is the name a client calls a deployment by: the team's public
// name for team deployments, model_name otherwise.
func (d *Deployment) PublicName() string {
	if d.ModelInfo.TeamPublicModelName != "" {
		return d.ModelInfo.TeamPublicModelName
	}
	return d.ModelName
}
