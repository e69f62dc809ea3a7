// ValidatingAdmissionPolicy: the upstream plugin (k8s.io/apiserver's
// policy/validating, the code kube-apiserver runs), fed from stand-in CRDs.
//
// kube-apiserver serves admissionregistration.k8s.io/v1 itself; here the
// ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding kinds are
// stand-in CRDs (crds/admissionregistration-*.yaml) and the plugin's informers
// read them, and the namespaces, through a loopback client.
//
// One difference from kube-apiserver, so that the stand-in CRDs can be created
// at all: until the plugin's informers have listed once, writes pass without
// policy checks (kube-apiserver refuses them as "not yet ready"). The readyz
// check "stepline-admission-policies" fails until then, and testenv/up.sh
// waits for it before it creates anything but CRDs.
//
// Thread-safety: after start, safe for concurrent use (the plugin is).
package main

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
)

type policyAdmission struct {
	plugin  *validating.Plugin
	factory informers.SharedInformerFactory
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	synced  []cache.InformerSynced
}

var _ admission.ValidationInterface = &policyAdmission{}

// newPolicyAdmission makes the plugin on a loopback client of this server; it
// starts reading once start runs (a post-start hook).
func newPolicyAdmission(gc *genericapiserver.Config, stop <-chan struct{}) (*policyAdmission, error) {
	cfg := rest.CopyConfig(gc.LoopbackClientConfig)
	cfg.ContentType = "application/json" // CRDs do not speak protobuf
	cfg.AcceptContentTypes = "application/json"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	plugin, err := validating.NewPlugin(nil)
	if err != nil {
		return nil, err
	}
	a := &policyAdmission{
		plugin:  plugin,
		factory: informers.NewSharedInformerFactory(client, 0),
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(client.Discovery())),
	}
	reg := a.factory.Admissionregistration().V1()
	a.synced = []cache.InformerSynced{
		reg.ValidatingAdmissionPolicies().Informer().HasSynced,
		reg.ValidatingAdmissionPolicyBindings().Informer().HasSynced,
		a.factory.Core().V1().Namespaces().Informer().HasSynced,
	}
	plugin.SetExternalKubeInformerFactory(a.factory)
	plugin.SetExternalKubeClientSet(client)
	plugin.SetDynamicClient(dyn)
	plugin.SetRESTMapper(a.mapper)
	plugin.SetAuthorizer(gc.Authorization.Authorizer)
	plugin.SetDrainedNotification(stop)
	if err := plugin.ValidateInitialization(); err != nil {
		return nil, fmt.Errorf("ValidatingAdmissionPolicy: %v", err)
	}
	return a, nil
}

// start is the post-start hook: the informers begin listing (a stand-in CRD
// that is not applied yet is retried by its reflector until it exists).
func (a *policyAdmission) start(ctx genericapiserver.PostStartHookContext) error {
	a.factory.Start(ctx.Done())
	return nil
}

// ready says whether the policies, bindings and namespaces have been listed.
func (a *policyAdmission) ready() bool {
	for _, s := range a.synced {
		if !s() {
			return false
		}
	}
	return true
}

func (a *policyAdmission) readyzCheck() healthz.HealthChecker {
	return healthz.NamedCheck("stepline-admission-policies", func(*http.Request) error {
		if !a.ready() {
			return fmt.Errorf("ValidatingAdmissionPolicies not listed yet")
		}
		return nil
	})
}

func (a *policyAdmission) Handles(op admission.Operation) bool { return a.plugin.Handles(op) }

func (a *policyAdmission) Validate(ctx context.Context, attr admission.Attributes, o admission.ObjectInterfaces) error {
	if !a.ready() {
		return nil
	}
	return a.plugin.Validate(ctx, attr, o)
}
