package registry

import "testing"

// TestAzureAI: azure_ai is served by the azure package, reads the Entra ID
// params, and asks for stream usage only when stream_include_usage says
// so.
func TestAzureAI(t *testing.T) {
	t.Parallel()
	s, ok := Lookup("azure_ai")
	if !ok || s.Family != "azure" || s.EnvKey != "AZURE_AI_API_KEY" || !s.Serves(EndpointEmbeddings) || s.Serves(EndpointResponses) {
		t.Fatalf("azure_ai: %+v", s)
	}
	for _, name := range []string{"azure", "azure_ai"} {
		s, _ := Lookup(name)
		for _, p := range []string{"tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_authority_host", "api_version"} {
			if !s.Reads(p) {
				t.Errorf("%s does not read %s", name, p)
			}
		}
	}
	yes, no := true, false
	if StreamUsage("azure_ai", "", nil) || !StreamUsage("azure_ai", "", &yes) || StreamUsage("azure_ai", "", &no) {
		t.Error("azure_ai stream usage")
	}
}
