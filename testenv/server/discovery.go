// Root discovery: /apis and /api.
//
// The upstream standalone server switches discovery off (inside
// kube-apiserver the aggregator serves /apis), so kubectl finds no groups.
// Here we serve:
//   - /apis  legacy APIGroupList built from the established CRDs plus the
//     server's own groups, or the aggregated apidiscovery.k8s.io/v2
//     document that the CRD discovery controller maintains;
//   - /api   APIVersions{v1}, or the aggregated document of the core group.
//
// The private group of the stand-ins is kept out of /apis: discoveryTap sits
// between the CRD discovery controller and the aggregated manager and
// diverts that group to the core-group document instead.
package main

import (
	"net/http"
	"sort"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
)

var noRestrictions = negotiation.DefaultEndpointRestrictions

// discoveryTap wraps the aggregated /apis resource manager.
type discoveryTap struct {
	aggregated.ResourceManager
	core *coreAPI
}

func (t *discoveryTap) AddGroupVersion(group string, v apidiscoveryv2.APIVersionDiscovery) {
	if group == t.core.group {
		if v.Version == "v1" {
			t.core.setV1(&v)
		}
		return
	}
	t.ResourceManager.AddGroupVersion(group, v)
}

func (t *discoveryTap) RemoveGroup(group string) {
	if group == t.core.group {
		t.core.setV1(nil)
		return
	}
	t.ResourceManager.RemoveGroup(group)
}

func (t *discoveryTap) RemoveGroupVersion(gv metav1.GroupVersion) {
	if gv.Group == t.core.group {
		if gv.Version == "v1" {
			t.core.setV1(nil)
		}
		return
	}
	t.ResourceManager.RemoveGroupVersion(gv)
}

func (t *discoveryTap) SetGroupVersionPriority(gv metav1.GroupVersion, groupPriority, versionPriority int) {
	if gv.Group != t.core.group {
		t.ResourceManager.SetGroupVersionPriority(gv, groupPriority, versionPriority)
	}
}

func (t *discoveryTap) SetGroups(groups []apidiscoveryv2.APIGroupDiscovery) {
	kept := groups[:0:0]
	for _, g := range groups {
		if g.Name != t.core.group {
			kept = append(kept, g)
		}
	}
	t.ResourceManager.SetGroups(kept)
}

// WithSource must hand out a tap too: the CRD discovery controller uses
// manager.WithSource(CRDSource).
func (t *discoveryTap) WithSource(s aggregated.Source) aggregated.ResourceManager {
	return &discoveryTap{ResourceManager: t.ResourceManager.WithSource(s), core: t.core}
}

// serveLegacyAPIs answers /apis with an APIGroupList: the server's own groups
// and every group with an established CRD serving a version, versions in
// Kubernetes priority order (v1 > v1beta1 > v1alpha1), the first preferred.
func (c *coreAPI) serveLegacyAPIs(w http.ResponseWriter, r *http.Request) {
	groups, err := c.rootGroups.Groups(r.Context(), r)
	if err != nil {
		fail(w, r, err)
		return
	}
	crds, err := c.crds.List(labels.Everything())
	if err != nil {
		fail(w, r, err)
		return
	}
	versions := map[string][]string{}
	for _, crd := range crds {
		if crd.Spec.Group == c.group || !established(crd) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Served && !contains(versions[crd.Spec.Group], v.Name) {
				versions[crd.Spec.Group] = append(versions[crd.Spec.Group], v.Name)
			}
		}
	}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		vs := versions[g]
		sort.Slice(vs, func(i, j int) bool { return version.CompareKubeAwareVersionStrings(vs[i], vs[j]) > 0 })
		group := metav1.APIGroup{Name: g}
		for _, v := range vs {
			group.Versions = append(group.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		group.PreferredVersion = group.Versions[0]
		groups = append(groups, group)
	}
	responsewriters.WriteObjectNegotiated(apiserver.Codecs, noRestrictions, schema.GroupVersion{}, w, r, http.StatusOK,
		&metav1.APIGroupList{Groups: groups}, false)
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established {
			return cond.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// setupDiscovery builds the /apis and /api handlers once the server exists.
func (c *coreAPI) setupDiscovery(addresses discovery.Addresses) {
	// Both handlers negotiate: aggregated when the Accept header asks for
	// apidiscovery.k8s.io APIGroupDiscoveryList, legacy otherwise.
	c.apis = aggregated.WrapAggregatedDiscoveryToHandler(http.HandlerFunc(c.serveLegacyAPIs), c.apisAgg, c.apisAgg)
	c.apiLegacy = discovery.NewLegacyRootAPIHandler(addresses, apiserver.Codecs, "/api")
	c.api = aggregated.WrapAggregatedDiscoveryToHandler(c.apiLegacy, c.apiAgg, c.apiAgg)
}
