// Package configs is the only code in the gateway that reads or writes
// YAML. It turns the --config file (a LiteLLM config.yaml superset, or the
// embedded default gateway.yaml) and the teams.d/ and models.d/ files into
// one immutable, validated Snapshot.
//
// # Contract
//
// Build is pure: it works on bytes (an Input) and an environment lookup
// function, never on the disk, so tests need no files. ReadDirs and ReadFS
// are the thin readers that gather an Input from a directory tree: files are
// found recursively, only *.yaml and *.yml, any path component starting with
// "." is skipped (editor temp files, .git, a Kubernetes ConfigMap's ..data
// folders), symlinks to files and directories are followed (with a loop
// guard), and a missing directory reads as empty. Every teams.d and
// models.d file is at most general_settings.max_config_file_bytes (default
// 1 MiB; the --config file at most 16 MiB): a bigger one is not read (its
// size comes from stat, or from a read that stops one byte past the limit)
// and Build refuses it with "path: message" naming the limit and the
// setting.
//
// Writing: CreateFile, ReplaceFile and RemoveFile (swap.go) are the
// compare-and-swap writer of the management API: a file is replaced or
// removed only if it still holds the content that was loaded, atomically
// (renameat2 RENAME_EXCHANGE / RENAME_NOREPLACE, with a portable fallback).
//
// Strictness: decoding walks yaml.Node trees, so every problem in every file
// is reported at once as "path:line:col: message", sorted by file and
// position, and each message says what is wrong and what to do. Unknown keys
// are errors (typos are caught), with one exception: a LiteLLM config.yaml
// must load unchanged, so unknown top-level sections of the --config file
// and unknown keys under general_settings, router_settings and
// litellm_settings are warnings (a LiteLLM setting the gateway ignores says
// so). The routing keys of router_settings and litellm_settings
// (router_settings wins, with a warning, when both set one) resolve into
// Settings.Router in routersettings.go, the one place they are validated:
// numbers in range, and every name a fallback or model_group_alias uses
// must be a model name (a team's fallbacks: one of the team's names).
// litellm_params accepts only the fields of LiteLLMParams; model_info keeps
// any extra keys in ModelInfo.Extra. Wrong types name the field and the
// expected type. Cross-file checks cover duplicate team ids, key tokens and
// deployment ids, team deployments of unknown teams and model_aliases that
// point nowhere.
//
// Errors vs warnings: Build returns a nil Snapshot if any problem is an
// error; warnings (ignored LiteLLM settings, plaintext secrets, an unset
// master or salt key) never stop a load, and `gateway check` prints them.
//
// Secrets: a value "os.environ/NAME" is read from the environment; an
// unset variable in a deployment's api_key is an error, while the master
// and salt keys fail closed (an empty value and a warning). A value
// "enc:v2:..." is AES-256-GCM encrypted under a key derived from the salt
// key with the deployment's team and model_info.id as authenticated data
// (EncryptBound, DecryptBound): copied into another team's or deployment's
// file it does not decrypt. "enc:v1:..." is the legacy form bound to
// nothing (Encrypt, Decrypt), still loaded. Both are decrypted at load
// time with the current salt key or, while a rotation is under way,
// general_settings.salt_key_previous (SaltKeys); a wrong salt key, an
// altered value or a moved one is an error at its position, never a panic.
// Rotate re-encrypts every enc: value for a new salt key. A literal
// api_key loads with a warning. model_info.api_key_set_by records who set
// a deployment's key (Deployment.OperatorCredentials). Resolved secrets live only in fields that
// are never serialized (Deployment.APIKey, Settings.MasterKey, ...), and
// virtual keys are stored only as their sha256 (HashKey).
//
// Determinism: files are sorted by path, a deployment without model_info.id
// gets an id derived from its model_name and litellm_params (DeploymentID),
// and Snapshot.Hash is the sha256 over every (path, content hash), so the
// same files always give the same snapshot and hash, and an unchanged
// rescan can be recognised and dropped.
package configs
