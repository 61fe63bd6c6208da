// Package manage is the business logic of the management API (LiteLLM's
// /team/*, /key/* and /model/* endpoints): it builds team, key and model
// objects from requests, decides who may do what, masks secrets in
// answers and applies the operator's api_base policy. It knows nothing
// about HTTP or YAML: handlers in gateway/ call it, configs/ encodes its
// results and confstore writes them.
package manage
