// The core group ("", served under /api/v1) on top of CustomResourceDefinitions.
//
// CRDs cannot have the empty group and are never served under /api. The
// stand-in CRDs (pods, events, namespaces, ...) therefore live in a private
// group (default core.kapi.test, version v1), and this filter, innermost in the
// handler chain (after authentication, authorization and the in-flight
// limits), makes them look like core/v1:
//
//   - it answers /api, /api/v1 and /apis itself (discovery.go);
//   - it rewrites request paths /api/v1/... to /apis/<group>/v1/... and
//     recomputes the request info, which the CRD handler routes on;
//   - it rewrites request bodies (apiVersion v1 -> <group>/v1), converts
//     protobuf bodies to JSON and passes list-free strategic merge patches on
//     as merge patches;
//   - it rewrites responses back (<group>/v1 -> v1), only at whole-object
//     positions, streaming watch events one by one with every flush passed on.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/endpoints/responsewriter"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// coreAPI is the filter. Its fields are filled in two steps: newCoreAPI
// before the server is built, the rest by finish() once it exists.
type coreAPI struct {
	group    string // private group of the stand-in CRDs
	gvQuoted []byte // `"<group>/v1"` as it appears in JSON
	groupB   []byte // the group as bytes, for a quick Contains

	next     http.Handler
	resolver apirequest.RequestInfoResolver
	maxBody  int64

	crds       apiextensionslisters.CustomResourceDefinitionLister
	rootGroups discovery.GroupLister // the server's own groups (apiextensions.k8s.io)
	apisAgg    aggregated.ResourceManager
	apiAgg     aggregated.ResourceManager // aggregated discovery for /api
	apiLegacy  http.Handler               // APIVersions for /api
	apis, api  http.Handler               // content-negotiating discovery handlers

	policy *policy // RBAC state, service-account tokens, Pod Security (policy.go)

	mu    sync.RWMutex
	v1    *apidiscoveryv2.APIVersionDiscovery // the core resources, group already ""
	kinds map[string]bool                     // kinds of the core resources (Pod, Event, ...)
}

func newCoreAPI(group string) *coreAPI {
	return &coreAPI{
		group:    group,
		gvQuoted: []byte(`"` + group + `/v1"`),
		groupB:   []byte(group),
		apiAgg:   aggregated.NewResourceManager("api"),
		kinds:    map[string]bool{},
	}
}

func (c *coreAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/apis" || p == "/apis/":
		c.apis.ServeHTTP(w, r)
	case p == "/api" || p == "/api/":
		c.api.ServeHTTP(w, r)
	case p == "/api/v1" || p == "/api/v1/":
		c.serveV1(w, r)
	case strings.HasPrefix(p, "/api/v1/") && strings.HasSuffix(p, "/token"):
		if ns, name, ok := tokenRequestPath(p); ok {
			c.policy.serveTokenRequest(w, r, ns, name)
		} else {
			c.serveCore(w, r)
		}
	case strings.HasPrefix(p, "/api/v1/"):
		c.serveCore(w, r)
	default:
		c.next.ServeHTTP(w, r)
	}
}

// fail writes a Kubernetes Status error.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	responsewriters.ErrorNegotiated(err, apiserver.Codecs, schema.GroupVersion{Version: "v1"}, w, r)
}

// serveCore maps one /api/v1/... request onto the private group.
func (c *coreAPI) serveCore(w http.ResponseWriter, r *http.Request) {
	if ns, pod, ok := podLogPath(r.URL.Path); ok { // podlog.go: proxied to the kubelet
		c.servePodLog(w, r, ns, pod)
		return
	}
	from, to := "/api/v1", "/apis/"+c.group+"/v1"
	r2 := r.Clone(r.Context())
	r2.URL.Path = to + r.URL.Path[len(from):]
	if r.URL.RawPath != "" && strings.HasPrefix(r.URL.RawPath, from) {
		r2.URL.RawPath = to + r.URL.RawPath[len(from):]
	}
	if strings.HasPrefix(r.RequestURI, from) {
		r2.RequestURI = to + r.RequestURI[len(from):]
	}
	info, err := c.resolver.NewRequestInfo(r2)
	if err != nil {
		fail(w, r, apierrors.NewBadRequest(err.Error()))
		return
	}
	if info.Resource == "namespaces" {
		// /namespaces/x parses as "namespace x"; the resource is cluster-scoped.
		info.Namespace = ""
	}
	r2 = r2.WithContext(apirequest.WithRequestInfo(r2.Context(), info))

	// Responses of the CRD handler are JSON (or YAML); never protobuf.
	r2.Header.Set("Accept", stripProtobuf(r.Header.Get("Accept")))
	// Buffered responses are rewritten, so they must not come compressed.
	r2.Header.Del("Accept-Encoding")

	if r.Body != nil && r.Body != http.NoBody && (r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" || r.Method == "DELETE") {
		body, err := io.ReadAll(io.LimitReader(r.Body, c.maxBody+1))
		if err != nil {
			fail(w, r, apierrors.NewBadRequest(err.Error()))
			return
		}
		if int64(len(body)) > c.maxBody {
			fail(w, r, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", c.maxBody)))
			return
		}
		ctype, body, err := c.fixRequestBody(r.Header.Get("Content-Type"), body)
		if err != nil {
			fail(w, r, apierrors.NewBadRequest(err.Error()))
			return
		}
		r2.Header.Set("Content-Type", ctype)
		r2.Body = io.NopCloser(bytes.NewReader(body))
		if info.Resource == "pods" && info.Subresource == "" && (info.Verb == "create" || ctype == "application/apply-patch+yaml") &&
			!c.policy.admitPod(w, r, info.Namespace, body) {
			return
		}
		r2.ContentLength = int64(len(body))
		r2.Header.Del("Content-Length")
	}

	if info.Verb == "watch" {
		// WrapForHTTP1Or2 sends Write/WriteHeader through our rewriting
		// writer and Flush/CloseNotify (and Hijack on HTTP/1) straight to the
		// connection's writer, so the watch handler finds its http.Flusher on
		// HTTP/1 and HTTP/2 alike and every event goes out as it is flushed.
		sw := &streamWriter{w: w, fix: c.fixOut}
		c.next.ServeHTTP(responsewriter.WrapForHTTP1Or2(sw), r2)
		sw.finish()
		return
	}
	bw := &bufferWriter{w: w}
	c.next.ServeHTTP(bw, r2)
	bw.finish(c)
}

// stripProtobuf drops protobuf media types from an Accept header (typed
// clients ask for protobuf first; custom resources have no protobuf form).
func stripProtobuf(accept string) string {
	var keep []string
	for _, part := range strings.Split(accept, ",") {
		if p := strings.TrimSpace(part); p != "" && !strings.Contains(p, "protobuf") {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "application/json"
	}
	return strings.Join(keep, ",")
}

// fixRequestBody returns the content type and body to send on.
func (c *coreAPI) fixRequestBody(ctype string, body []byte) (string, []byte, error) {
	media := strings.TrimSpace(strings.SplitN(ctype, ";", 2)[0])
	switch media {
	case "application/vnd.kubernetes.protobuf":
		// Decode with the typed scheme and re-encode as JSON.
		obj, gvk, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		if err != nil {
			return "", nil, fmt.Errorf("cannot decode protobuf body: %v", err)
		}
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
		js, err := json.Marshal(obj)
		if err != nil {
			return "", nil, err
		}
		return "application/json", c.fixIn(js), nil
	case "application/yaml", "application/apply-patch+yaml":
		js := body
		if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
			var err error
			if js, err = yaml.YAMLToJSON(body); err != nil {
				return "", nil, fmt.Errorf("cannot parse YAML body: %v", err)
			}
		}
		if media == "application/yaml" {
			ctype = "application/json"
		}
		return ctype, c.fixIn(js), nil // JSON is valid YAML for apply patches
	case "application/strategic-merge-patch+json":
		// Custom resources take no strategic merge patch; one without lists
		// and without $-directives means the same as a merge patch.
		var v interface{}
		if json.Unmarshal(body, &v) == nil && !hasListOrDirective(v) {
			return "application/merge-patch+json", c.fixIn(body), nil
		}
		return ctype, body, nil // upstream answers 415 with its own message
	case "application/json-patch+json":
		return ctype, mapArray(body, c.fixPatchOp), nil
	default: // JSON, merge patch
		return ctype, c.fixIn(body), nil
	}
}

// fixIn rewrites a request object's apiVersion v1 -> <group>/v1 when it is a
// core object (or a patch without kind). DeleteOptions and such stay v1.
func (c *coreAPI) fixIn(doc []byte) []byte {
	m, ok := members(doc)
	if !ok {
		return doc
	}
	s, ok := m["apiVersion"]
	if !ok || string(doc[s.a:s.b]) != `"v1"` {
		return doc
	}
	if _, hasKind := m["kind"]; hasKind && !c.isCoreKind(str(doc, m, "kind")) {
		return doc
	}
	return splice(doc, []edit{{s, c.gvQuoted}})
}

// fixPatchOp rewrites {"op":..., "path":"/apiVersion", "value":"v1"}.
func (c *coreAPI) fixPatchOp(op []byte) []byte {
	m, ok := members(op)
	if !ok || str(op, m, "path") != "/apiVersion" {
		return op
	}
	if s, ok := m["value"]; ok && string(op[s.a:s.b]) == `"v1"` {
		return splice(op, []edit{{s, c.gvQuoted}})
	}
	return op
}

func (c *coreAPI) isCoreKind(kind string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.kinds[kind]
}

// fixOut rewrites a response document <group>/v1 -> v1 where apiVersion is a
// whole object's: the document itself, list items, Table rows' objects and a
// watch event's object. Nested references (ownerReferences, involvedObject)
// are left alone. Status errors lose the group in their message.
func (c *coreAPI) fixOut(doc []byte) []byte {
	if !bytes.Contains(doc, c.groupB) {
		return doc // fast path: nothing to do
	}
	m, ok := members(doc)
	if !ok {
		return doc
	}
	var edits []edit
	if s, ok := m["apiVersion"]; ok && bytes.Equal(doc[s.a:s.b], c.gvQuoted) {
		edits = append(edits, edit{s, []byte(`"v1"`)})
	}
	kind := str(doc, m, "kind")
	if s, ok := m["items"]; ok {
		edits = append(edits, edit{s, mapArray(doc[s.a:s.b], c.fixOut)})
	}
	if s, ok := m["rows"]; ok && kind == "Table" {
		edits = append(edits, edit{s, mapArray(doc[s.a:s.b], c.fixRow)})
	}
	if s, ok := m["object"]; ok && kind == "" { // a watch event {"type":..., "object":...}
		if _, ok := m["type"]; ok {
			edits = append(edits, edit{s, c.fixOut(doc[s.a:s.b])})
		}
	}
	out := splice(doc, edits)
	if kind == "Status" {
		out = bytes.ReplaceAll(out, []byte(`"group":"`+c.group+`"`), []byte(`"group":""`))
		out = bytes.ReplaceAll(out, []byte("."+c.group), nil)
	}
	return out
}

func (c *coreAPI) fixRow(row []byte) []byte {
	m, ok := members(row)
	if !ok {
		return row
	}
	if s, ok := m["object"]; ok {
		return splice(row, []edit{{s, c.fixOut(row[s.a:s.b])}})
	}
	return row
}

// bufferWriter holds a whole response so that it can be rewritten.
type bufferWriter struct {
	w    http.ResponseWriter
	code int
	buf  bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.w.Header() }
func (b *bufferWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.buf.Write(p)
}
func (b *bufferWriter) Flush() {} // everything goes out in finish()

func (b *bufferWriter) finish(c *coreAPI) {
	if b.code == 0 {
		return // the handler wrote nothing (e.g. it panicked)
	}
	body := b.buf.Bytes()
	ctype := b.w.Header().Get("Content-Type")
	switch {
	case strings.Contains(ctype, "json"):
		body = c.fixOut(body)
	case strings.Contains(ctype, "yaml") && bytes.Contains(body, c.groupB):
		if js, err := yaml.YAMLToJSON(body); err == nil {
			if y, err := yaml.JSONToYAML(c.fixOut(js)); err == nil {
				body = y
			}
		}
	}
	b.w.Header().Del("Content-Length")
	b.w.WriteHeader(b.code)
	_, _ = b.w.Write(body)
}

// streamWriter rewrites a newline-delimited JSON watch stream event by event
// and passes every flush on, so watchers see each event as it happens.
type streamWriter struct {
	w       http.ResponseWriter
	fix     func([]byte) []byte
	pending []byte
}

func (s *streamWriter) Header() http.Header { return s.w.Header() }
func (s *streamWriter) WriteHeader(code int) {
	s.w.Header().Del("Content-Length")
	s.w.WriteHeader(code)
}
func (s *streamWriter) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := append(s.fix(s.pending[:i:i]), '\n')
		if _, err := s.w.Write(line); err != nil {
			return 0, err
		}
		s.pending = append(s.pending[:0], s.pending[i+1:]...)
	}
}

// Unwrap makes streamWriter a responsewriter.UserProvidedDecorator. Complete
// lines are written on at once, so a flush of the inner writer never leaves
// an event behind in pending.
func (s *streamWriter) Unwrap() http.ResponseWriter { return s.w }

func (s *streamWriter) finish() {
	if len(s.pending) > 0 { // e.g. an error Status without trailing newline
		_, _ = s.w.Write(s.fix(s.pending))
		s.pending = nil
	}
}

// setV1 records the discovery of the stand-in resources (from discoveryTap)
// with the response kinds moved to the core group.
func (c *coreAPI) setV1(v *apidiscoveryv2.APIVersionDiscovery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kinds = map[string]bool{}
	if v == nil {
		c.v1 = nil
		c.apiAgg.RemoveGroup("")
		return
	}
	v = v.DeepCopy()
	for i := range v.Resources {
		res := &v.Resources[i]
		if res.ResponseKind != nil && res.ResponseKind.Group == c.group {
			res.ResponseKind.Group = ""
			c.kinds[res.ResponseKind.Kind] = true
		}
		for j := range res.Subresources {
			if rk := res.Subresources[j].ResponseKind; rk != nil && rk.Group == c.group {
				rk.Group = ""
			}
		}
	}
	c.v1 = v
	c.apiAgg.AddGroupVersion("", *v)
}

// serveV1 answers /api/v1 with the legacy APIResourceList.
func (c *coreAPI) serveV1(w http.ResponseWriter, r *http.Request) {
	list := &metav1.APIResourceList{GroupVersion: "v1", APIResources: []metav1.APIResource{}}
	c.mu.RLock()
	if c.v1 != nil {
		for _, res := range c.v1.Resources {
			namespaced := res.Scope == apidiscoveryv2.ScopeNamespace
			kind := ""
			if res.ResponseKind != nil {
				kind = res.ResponseKind.Kind
			}
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: res.Resource, SingularName: res.SingularResource, Namespaced: namespaced,
				Kind: kind, Verbs: res.Verbs, ShortNames: res.ShortNames, Categories: res.Categories,
			})
			for _, sub := range res.Subresources {
				list.APIResources = append(list.APIResources, metav1.APIResource{
					Name: res.Resource + "/" + sub.Subresource, Namespaced: namespaced, Kind: kind, Verbs: sub.Verbs,
				})
			}
		}
	}
	c.mu.RUnlock()
	responsewriters.WriteObjectNegotiated(apiserver.Codecs, noRestrictions, schema.GroupVersion{}, w, r, http.StatusOK, list, false)
}
