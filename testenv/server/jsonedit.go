// Byte-level JSON editing used by the core-group mapping (core.go).
//
// The rewriting of apiVersion must touch only a few known positions of a
// document (a top-level member, list items, Table rows, a watch event's
// object). Decoding the whole document into maps and encoding it again would
// reorder keys and turn big integers into floats, so instead we locate the
// byte spans of the members we care about and splice new values in; all other
// bytes pass through untouched.
package main

import (
	"bytes"
	"encoding/json"
	"sort"
)

// span is the byte range [a, b) of one JSON value inside a document.
type span struct{ a, b int }

// members returns the spans of the values of the top-level members of a JSON
// object. ok is false when doc is not a well-formed JSON object.
func members(doc []byte) (map[string]span, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	out := map[string]span{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := k.(string)
		var raw json.RawMessage // holds the value's exact bytes
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		out[key] = span{end - len(raw), end}
	}
	return out, true
}

// elements returns the spans of the elements of a JSON array.
func elements(doc []byte) ([]span, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	var out []span
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		out = append(out, span{end - len(raw), end})
	}
	return out, true
}

// edit replaces the bytes of span s by v.
type edit struct {
	s span
	v []byte
}

// splice applies non-overlapping edits to doc and returns the new document.
func splice(doc []byte, edits []edit) []byte {
	if len(edits) == 0 {
		return doc
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].s.a < edits[j].s.a })
	out := make([]byte, 0, len(doc)+64)
	at := 0
	for _, e := range edits {
		out = append(out, doc[at:e.s.a]...)
		out = append(out, e.v...)
		at = e.s.b
	}
	return append(out, doc[at:]...)
}

// mapArray applies f to every element of the JSON array arr and returns the
// resulting array (arr itself when nothing changed).
func mapArray(arr []byte, f func([]byte) []byte) []byte {
	els, ok := elements(arr)
	if !ok {
		return arr
	}
	var edits []edit
	for _, s := range els {
		old := arr[s.a:s.b]
		if nv := f(old); !bytes.Equal(nv, old) {
			edits = append(edits, edit{s, nv})
		}
	}
	return splice(arr, edits)
}

// str returns the string value of a member, or "" when it is absent or not a string.
func str(doc []byte, m map[string]span, key string) string {
	s, ok := m[key]
	if !ok {
		return ""
	}
	var v string
	if json.Unmarshal(doc[s.a:s.b], &v) != nil {
		return ""
	}
	return v
}

// hasListOrDirective reports whether a decoded JSON value holds any array or
// any key that starts with "$" (a strategic-merge-patch directive).
func hasListOrDirective(v interface{}) bool {
	switch t := v.(type) {
	case []interface{}:
		return true
	case map[string]interface{}:
		for k, e := range t {
			if len(k) > 0 && k[0] == '$' || hasListOrDirective(e) {
				return true
			}
		}
	}
	return false
}
