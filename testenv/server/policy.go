// Policy state of the test server that kube-apiserver keeps in built-in
// resources: RBAC objects, namespaces (their Pod Security labels) and service
// accounts (their tokens). Here they are stand-in CRDs, read through informers
// on a loopback client once the server runs (a post-start hook).
//
// policy serves three things built on that cache:
//   - an RBAC authorizer (rbac.go) for every request that the always-allowed
//     groups do not cover;
//   - service-account tokens: POST .../serviceaccounts/NAME/token (what
//     `kubectl create token` sends) mints a token that authenticates as
//     system:serviceaccount:NS:NAME (satoken.go);
//   - Pod Security admission for pod creates (podsecurity.go).
//
// Thread-safety: after start, the listers are safe for concurrent use; tokens
// are guarded by mu.
package main

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

const rbacGroup = "rbac.authorization.k8s.io"

type policy struct {
	coreGroup string

	mu      sync.Mutex
	tokens  map[string]saToken // guarded by mu
	synced  []cache.InformerSynced
	listers map[string]cache.GenericLister // by resource; written once by start
}

func newPolicy(coreGroup string) *policy {
	return &policy{coreGroup: coreGroup, tokens: map[string]saToken{}, listers: map[string]cache.GenericLister{}}
}

// start is the post-start hook: informers on the loopback client. A resource
// whose CRD is not applied yet is retried by its reflector until it exists.
func (p *policy) start(ctx genericapiserver.PostStartHookContext) error {
	client, err := dynamic.NewForConfig(ctx.LoopbackClientConfig)
	if err != nil {
		return err
	}
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	gvrs := map[string]schema.GroupVersionResource{
		"roles":               {Group: rbacGroup, Version: "v1", Resource: "roles"},
		"rolebindings":        {Group: rbacGroup, Version: "v1", Resource: "rolebindings"},
		"clusterroles":        {Group: rbacGroup, Version: "v1", Resource: "clusterroles"},
		"clusterrolebindings": {Group: rbacGroup, Version: "v1", Resource: "clusterrolebindings"},
		"namespaces":          {Group: p.coreGroup, Version: "v1", Resource: "namespaces"},
		"serviceaccounts":     {Group: p.coreGroup, Version: "v1", Resource: "serviceaccounts"},
	}
	p.mu.Lock()
	for name, gvr := range gvrs {
		inf := factory.ForResource(gvr)
		p.listers[name] = inf.Lister()
		p.synced = append(p.synced, inf.Informer().HasSynced)
	}
	p.mu.Unlock()
	factory.Start(ctx.Done())
	return nil
}

// ready says whether every informer has listed once.
func (p *policy) ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.synced) == 0 {
		return false
	}
	for _, s := range p.synced {
		if !s() {
			return false
		}
	}
	return true
}

func (p *policy) lister(resource string) cache.GenericLister {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listers[resource]
}

// scope is the lister of a resource, in a namespace ("" = all, or cluster-scoped).
func (p *policy) scope(resource, namespace string) (cache.GenericNamespaceLister, error) {
	l := p.lister(resource)
	if l == nil {
		return nil, fmt.Errorf("%s: cache not started", resource)
	}
	if namespace == "" {
		return l, nil
	}
	return l.ByNamespace(namespace), nil
}

// get reads one cached object (namespace "" for cluster-scoped) into out.
func (p *policy) get(resource, namespace, name string, out interface{}) (bool, error) {
	l, err := p.scope(resource, namespace)
	if err != nil {
		return false, err
	}
	obj, err := l.Get(name)
	if err != nil {
		return false, nil // not found (the lister's only error)
	}
	return true, fromCached(obj, out)
}

// list calls add for each cached object of a resource in a namespace ("" = all or
// cluster-scoped).
func (p *policy) list(resource, namespace string, add func(runtime.Object) error) error {
	l, err := p.scope(resource, namespace)
	if err != nil {
		return err
	}
	objs, err := l.List(everything)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := add(o); err != nil {
			return err
		}
	}
	return nil
}

// fromCached converts an informer's unstructured object into a typed one.
func fromCached(obj runtime.Object, out interface{}) error {
	u, ok := obj.(runtime.Unstructured)
	if !ok {
		return fmt.Errorf("unexpected cached type %T", obj)
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), out)
}
