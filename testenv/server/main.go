// stepline-apiserver: the upstream k8s.io/apiextensions-apiserver (the code
// that serves CustomResourceDefinitions inside kube-apiserver), started from
// our own main so that it can stand in for a Kubernetes API server in tests.
//
// On top of upstream's standalone server (pkg/cmd/server) it adds:
//   - root discovery /apis and /api (discovery.go);
//   - OpenAPI v2 (upstream configures only v3), so kubectl apply/describe work;
//   - --token-auth-file static bearer tokens;
//   - optional authentication/authorization webhook kubeconfigs, so unknown
//     users get 401/403 instead of 500 (only system:masters, or the groups of
//     --authorization-always-allow-groups, are authorized);
//   - the core group /api/v1 mapped onto stand-in CRDs (core.go);
//   - defaults for a standalone server: no admission plugins that need the
//     core API, no priority and fairness, no in-cluster lookups, and no
//     informers on the (absent) core API.
//
// Built in GOPATH mode against Debian's golang-k8s-*-dev sources by
// testenv/build.sh, which also patches CRD validation to accept the dot-less
// built-in groups batch, apps, autoscaling and policy.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	unionauth "k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	tokenunion "k8s.io/apiserver/pkg/authentication/token/union"
	authzunion "k8s.io/apiserver/pkg/authorization/union"
	"k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/version"
)

// Admission plugins of the generic server that watch the core API (which
// this server does not have): left on, every write gets 403 "not yet ready".
// ValidatingAdmissionPolicy runs all the same, fed from stand-in CRDs (vap.go).
var offPlugins = []string{"NamespaceLifecycle", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook",
	"ValidatingAdmissionPolicy", "MutatingAdmissionPolicy"}

type extraOptions struct {
	tokenAuthFile string
	coreGroup     string
}

func main() {
	ctx := genericapiserver.SetupSignalContext()
	o := options.NewCustomResourceDefinitionsServerOptions(os.Stdout, os.Stderr)
	ro := o.RecommendedOptions
	ro.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	ro.Authentication.RemoteKubeConfigFileOptional = true
	ro.Authentication.SkipInClusterLookup = true
	ro.Authorization.RemoteKubeConfigFileOptional = true
	ro.Features.EnablePriorityAndFairness = false
	registered := map[string]bool{}
	for _, p := range ro.Admission.Plugins.Registered() {
		registered[p] = true
	}
	for _, p := range offPlugins {
		if registered[p] {
			ro.Admission.DisablePlugins = append(ro.Admission.DisablePlugins, p)
		}
	}

	x := &extraOptions{coreGroup: "core.kapi.test"}
	cmd := &cobra.Command{
		Use:   "stepline-apiserver",
		Short: "apiextensions-apiserver with discovery, OpenAPI, static tokens and a CRD-backed core group",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error {
			return run(c.Context(), o, x)
		},
	}
	cmd.SetContext(ctx)
	fs := cmd.Flags()
	o.AddFlags(fs)
	fs.StringVar(&x.tokenAuthFile, "token-auth-file", "",
		"CSV file of static bearer tokens: token,user,uid[,\"group1,group2\"]")
	fs.StringVar(&x.coreGroup, "core-group", x.coreGroup,
		"private CRD group whose v1 resources are served as the core group under /api/v1")
	// Only these groups are authorized (there is no RBAC). Unlike system:masters,
	// another group here is not exempt from the max-in-flight limits, so a test
	// can provoke real 429s with an all-powerful identity.
	fs.StringSliceVar(&ro.Authorization.AlwaysAllowGroups, "authorization-always-allow-groups",
		ro.Authorization.AlwaysAllowGroups, "groups that are allowed every request")
	os.Exit(cli.Run(cmd))
}

func run(ctx context.Context, o *options.CustomResourceDefinitionsServerOptions, x *extraOptions) error {
	// The generic server insists on a kubeconfig for the core API (else it
	// tries in-cluster config and exits). Point it at a closed port; its
	// informers are never started (see below).
	if o.RecommendedOptions.CoreAPI.CoreAPIKubeconfigPath == "" {
		path, err := writeNowhereKubeconfig()
		if err != nil {
			return err
		}
		defer os.Remove(path)
		o.RecommendedOptions.CoreAPI.CoreAPIKubeconfigPath = path
	}
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	config, err := o.Config()
	if err != nil {
		return err
	}
	gc := &config.GenericConfig.Config

	// OpenAPI v2 beside upstream's v3: the CRD OpenAPI controller publishes
	// the CRD schemas to both once StaticOpenAPISpec exists.
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(
		openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions),
		openapinamer.NewDefinitionNamer(apiserver.Scheme, scheme.Scheme))
	gc.OpenAPIConfig.Info.Title = "stepline-testenv"
	gc.OpenAPIConfig.Info.Version = version.Get().GitVersion
	gc.OpenAPIV3Config.Info.Title = "stepline-testenv"
	gc.OpenAPIV3Config.Info.Version = version.Get().GitVersion

	// Static tokens first. A token that is presented but unknown fails the
	// request with 401 (as kube-apiserver does) instead of falling through to
	// anonymous; requests without a token go on to client certificates.
	// Minted service-account tokens beside them, and RBAC after the always-allowed groups (policy.go).
	pol := newPolicy(x.coreGroup)
	gc.Authorization.Authorizer = authzunion.New(gc.Authorization.Authorizer, pol)
	if x.tokenAuthFile != "" {
		tokens, err := tokenfile.NewCSV(x.tokenAuthFile)
		if err != nil {
			return fmt.Errorf("--token-auth-file: %v", err)
		}
		gc.Authentication.Authenticator = unionauth.NewFailOnError(
			group.NewAuthenticatedGroupAdder(bearertoken.New(tokenunion.New(tokens, pol))),
			gc.Authentication.Authenticator)
	}

	gc.LongRunningFunc = withLongRunningLogs(gc.LongRunningFunc) // pods/log?follow (podlog.go)

	vap, err := newPolicyAdmission(gc, ctx.Done())
	if err != nil {
		return err
	}
	gc.AdmissionControl = admission.NewChainHandler(gc.AdmissionControl, vap)
	gc.AddReadyzChecks(vap.readyzCheck())

	// Nothing serves the core API informers, so do not run them.
	gc.DisabledPostStartHooks.Insert("generic-apiserver-start-informers")

	core := newCoreAPI(x.coreGroup)
	core.policy = pol
	core.apisAgg = &discoveryTap{ResourceManager: aggregated.NewResourceManager("apis"), core: core}
	gc.AggregatedDiscoveryGroupManager = core.apisAgg
	gc.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		core.next = apiHandler
		core.resolver = c.RequestInfoResolver
		core.maxBody = c.MaxRequestBodyBytes
		if core.maxBody <= 0 {
			core.maxBody = 3 << 20
		}
		return genericapiserver.DefaultBuildHandlerChain(core, c)
	}

	completed := config.Complete()
	server, err := completed.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}
	core.crds = server.Informers.Apiextensions().V1().CustomResourceDefinitions().Lister()
	core.rootGroups = server.GenericAPIServer.DiscoveryGroupManager
	core.setupDiscovery(completed.GenericConfig.DiscoveryAddresses)
	server.GenericAPIServer.AddPostStartHookOrDie("stepline-policy-informers", pol.start)
	server.GenericAPIServer.AddPostStartHookOrDie("stepline-admission-policies", vap.start)

	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// writeNowhereKubeconfig writes a kubeconfig for a server that is not there.
func writeNowhereKubeconfig() (string, error) {
	f, err := os.CreateTemp("", "stepline-apiserver-core-*.kubeconfig")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.WriteString(`apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
`)
	return filepath.Clean(f.Name()), err
}
