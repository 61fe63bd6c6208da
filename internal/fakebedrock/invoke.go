package fakebedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// invoke serves InvokeModel for the embedding models: Amazon Titan text
// embeddings (v1, v2) and Cohere embed v3.
func (s *Server) invoke(w http.ResponseWriter, model string, body []byte) {
	base := model
	for _, geo := range []string{"us.", "eu.", "apac."} {
		base = strings.TrimPrefix(base, geo)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch {
	case strings.HasPrefix(base, "amazon.titan-embed-text"):
		var r struct {
			InputText      *string  `json:"inputText"`
			Dimensions     *int     `json:"dimensions"`
			Normalize      *bool    `json:"normalize"`
			EmbeddingTypes []string `json:"embeddingTypes"`
		}
		if err := dec.Decode(&r); err != nil {
			awsError(w, 400, "ValidationException", "Malformed input request: "+err.Error(), 0)
			return
		}
		v2 := strings.Contains(base, "-v2")
		if r.InputText == nil || *r.InputText == "" {
			awsError(w, 400, "ValidationException", "Malformed input request: #: required key [inputText] not found", 0)
			return
		}
		dims := 1536
		if v2 {
			dims = 1024
		}
		if r.Dimensions != nil {
			if !v2 || (*r.Dimensions != 256 && *r.Dimensions != 512 && *r.Dimensions != 1024) {
				awsError(w, 400, "ValidationException", "Malformed input request: #/dimensions: must be one of 256, 512, 1024", 0)
				return
			}
			dims = *r.Dimensions
		}
		n := len(strings.Fields(*r.InputText)) + 1
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", strconv.Itoa(n))
		_ = json.NewEncoder(w).Encode(map[string]any{"embedding": vector(*r.InputText, dims), "inputTextTokenCount": n})
	case strings.HasPrefix(base, "cohere.embed"):
		var r struct {
			Texts          []string `json:"texts"`
			InputType      string   `json:"input_type"`
			Truncate       string   `json:"truncate"`
			EmbeddingTypes []string `json:"embedding_types"`
		}
		if err := dec.Decode(&r); err != nil {
			awsError(w, 400, "ValidationException", "Malformed input request: "+err.Error(), 0)
			return
		}
		switch r.InputType {
		case "search_document", "search_query", "classification", "clustering":
		default:
			awsError(w, 400, "ValidationException", "Malformed input request: #/input_type: "+r.InputType+" is not a valid enum value", 0)
			return
		}
		if len(r.Texts) == 0 || len(r.Texts) > 96 {
			awsError(w, 400, "ValidationException", "Malformed input request: #/texts: expected 1 to 96 texts", 0)
			return
		}
		embs := make([][]float64, len(r.Texts))
		n := 0
		for i, t := range r.Texts {
			embs[i] = vector(t, 1024)
			n += len(strings.Fields(t)) + 1
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", strconv.Itoa(n))
		_ = json.NewEncoder(w).Encode(map[string]any{"id": newID(), "response_type": "embeddings_floats", "texts": r.Texts, "embeddings": embs})
	default:
		awsError(w, 400, "ValidationException", fmt.Sprintf("The provided model identifier %q is not an embedding model the fake serves", model), 0)
	}
}

// vector is a deterministic embedding of text.
func vector(text string, dims int) []float64 {
	v := make([]float64, dims)
	for i := range v {
		v[i] = float64((len(text)*31+i*7)%100) / 100
	}
	return v
}
