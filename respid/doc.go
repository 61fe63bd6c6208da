// Package respid turns the id of a stored upstream object (a Responses
// API response) into the id the client sees, and back.
//
// The gateway keeps no map from response to deployment: GET and DELETE
// /v1/responses/{id} and previous_response_id must reach the deployment
// that created the response, across restarts and replicas. So the id the
// client sees carries the team, the deployment and the upstream's id,
// sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
// gateway's salt key: it cannot be read, forged, or moved to another team
// (Open returns the team it was made for, which the caller compares with
// the caller's). Sealing is deterministic (the nonce is an HMAC of the
// contents, as in SIV): one response always gets the same id. Ids sealed under the previous salt key still open while
// salt_key_previous is set.
package respid
