// Package litellmimport moves a LiteLLM proxy's teams, virtual keys and
// models into the gateway's teams.d / models.d (`gateway import-litellm`).
//
// Read takes LiteLLM's PostgreSQL database (its DATABASE_URL, Prisma's
// ?schema= honoured) and returns the rows of LiteLLM_TeamTable,
// LiteLLM_VerificationToken and LiteLLM_ProxyModelTable as JSON objects
// (row_to_json, so the columns of any LiteLLM version come through), the
// teams' model aliases (LiteLLM_ModelTable) and the row counts of the
// tables that have no counterpart here.
//
// Import writes them through the management API's own builders (package
// manage: NewTeam, NewKey, ParseModel, NewDeployment, NewTeamFile,
// TeamFile, NewModelFile) and the store's writer (confstore.Store.Mutate),
// so the files are those the API would have written and every write is
// validated, durable and compare-and-swapped like an API write. Keys keep
// their sha256 token (LiteLLM stores the same hash), so the keys clients
// hold keep working. LiteLLM's encrypted litellm_params are decrypted with
// LITELLM_SALT_KEY (else LITELLM_MASTER_KEY; see Decrypt for the three
// formats) and the secrets are encrypted again with the gateway's salt
// key, bound to their deployment (configs.EncryptBound, through
// manage.NewDeployment). Objects already present are left as they are,
// so a second run changes nothing. The Report lists what was written and
// everything that was not carried over; it never holds a secret.
package litellmimport
