// Service-account tokens: the TokenRequest subresource
// (POST /api/v1/namespaces/NS/serviceaccounts/NAME/token, what
// `kubectl create token NAME -n NS` sends) and their authentication.
//
// kube-apiserver signs a JWT; this server mints a random opaque token kept in
// memory (lost on restart) that authenticates as
// system:serviceaccount:NS:NAME in the groups system:serviceaccounts and
// system:serviceaccounts:NS while the ServiceAccount (same uid) exists and the
// token has not expired. That is what a pod's projected token gives a
// controller, so RBAC can be tested with the identity a pod would have.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

type saToken struct {
	namespace, name, uid string
	expires              time.Time
}

// tokenRequestPath answers (ns, name, true) for .../namespaces/NS/serviceaccounts/NAME/token.
func tokenRequestPath(path string) (string, string, bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")
	if len(parts) != 5 || parts[0] != "namespaces" || parts[2] != "serviceaccounts" || parts[4] != "token" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// serveTokenRequest mints a token for an existing ServiceAccount. The request
// was authorized (create serviceaccounts/token) before it got here.
func (p *policy) serveTokenRequest(w http.ResponseWriter, r *http.Request, ns, name string) {
	if r.Method != http.MethodPost {
		fail(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "serviceaccounts/token"}, r.Method))
		return
	}
	var req authenticationv1.TokenRequest
	if body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20)); err == nil && len(body) > 0 {
		// JSON or protobuf (kubectl create token sends protobuf)
		if _, _, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(body, nil, &req); err != nil {
			fail(w, r, apierrors.NewBadRequest("TokenRequest: "+err.Error()))
			return
		}
	}
	var sa corev1.ServiceAccount
	if ok, err := p.get("serviceaccounts", ns, name, &sa); err != nil || !ok {
		fail(w, r, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name))
		return
	}
	seconds := int64(3600)
	if req.Spec.ExpirationSeconds != nil && *req.Spec.ExpirationSeconds >= 600 {
		seconds = *req.Spec.ExpirationSeconds
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		fail(w, r, apierrors.NewInternalError(err))
		return
	}
	token := hex.EncodeToString(raw)
	expires := time.Now().Add(time.Duration(seconds) * time.Second)
	p.mu.Lock()
	p.tokens[token] = saToken{namespace: ns, name: name, uid: string(sa.UID), expires: expires}
	p.mu.Unlock()

	req.TypeMeta = metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenRequest"}
	req.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: metav1.Now()}
	req.Spec.ExpirationSeconds = &seconds
	req.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(expires)}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(&req)
}

// AuthenticateToken implements authenticator.Token for minted tokens.
func (p *policy) AuthenticateToken(_ context.Context, token string) (*authenticator.Response, bool, error) {
	p.mu.Lock()
	t, ok := p.tokens[token]
	p.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return nil, false, nil
	}
	var sa corev1.ServiceAccount
	if found, err := p.get("serviceaccounts", t.namespace, t.name, &sa); err != nil || !found || string(sa.UID) != t.uid {
		return nil, false, nil // the ServiceAccount is gone (or was recreated)
	}
	return &authenticator.Response{User: &user.DefaultInfo{
		Name:   serviceaccount.MakeUsername(t.namespace, t.name),
		UID:    t.uid,
		Groups: serviceaccount.MakeGroupNames(t.namespace),
	}}, true, nil
}
