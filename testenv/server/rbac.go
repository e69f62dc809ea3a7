// RBAC authorization over the stand-in Role, ClusterRole, RoleBinding and
// ClusterRoleBinding CRDs (group rbac.authorization.k8s.io, testenv/crds/rbac-*.yaml).
//
// As kube-apiserver's RBAC authorizer: a request is allowed when a
// ClusterRoleBinding, or a RoleBinding in the request's namespace, names the
// user (User), one of its groups (Group) or its service account
// (ServiceAccount), and the role it refers to has a rule that covers the
// request. Rule matching is upstream's: the request becomes a one-verb,
// one-resource PolicyRule and k8s.io/component-helpers/auth/rbac/validation.Covers
// decides (verbs, groups, resources, "*/subresource", resourceNames,
// nonResourceURLs with a trailing "*"). Not implemented: aggregated
// ClusterRoles (aggregationRule) and escalation checks on writes of roles.
// Everything else is "no opinion", which the server turns into 403.
package main

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"
)

var everything = labels.Everything()

// Authorize implements authorizer.Authorizer.
func (p *policy) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "no user", nil
	}
	if !p.ready() {
		return authorizer.DecisionNoOpinion, "RBAC cache not synced yet", nil
	}
	want := requestRule(a)
	var found error
	allowed := false
	visit := func(ns string, ref rbacv1.RoleRef) {
		if allowed || found != nil {
			return
		}
		rules, err := p.roleRules(ns, ref)
		if err != nil {
			found = err
			return
		}
		allowed, _ = validation.Covers(rules, []rbacv1.PolicyRule{want})
	}
	err := p.list("clusterrolebindings", "", func(o runtime.Object) error {
		var b rbacv1.ClusterRoleBinding
		if err := fromCached(o, &b); err != nil {
			return err
		}
		if bound(b.Subjects, "", u) {
			visit("", b.RoleRef)
		}
		return nil
	})
	if err == nil && !allowed && a.GetNamespace() != "" {
		err = p.list("rolebindings", a.GetNamespace(), func(o runtime.Object) error {
			var b rbacv1.RoleBinding
			if err := fromCached(o, &b); err != nil {
				return err
			}
			if bound(b.Subjects, b.Namespace, u) {
				visit(b.Namespace, b.RoleRef)
			}
			return nil
		})
	}
	if err == nil {
		err = found
	}
	if allowed {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "RBAC: no Role or ClusterRole bound to the user allows it", err
}

// requestRule is the request as a PolicyRule with one verb and one resource.
func requestRule(a authorizer.Attributes) rbacv1.PolicyRule {
	if !a.IsResourceRequest() {
		return rbacv1.PolicyRule{Verbs: []string{a.GetVerb()}, NonResourceURLs: []string{a.GetPath()}}
	}
	resource := a.GetResource()
	if a.GetSubresource() != "" {
		resource += "/" + a.GetSubresource()
	}
	r := rbacv1.PolicyRule{Verbs: []string{a.GetVerb()}, APIGroups: []string{a.GetAPIGroup()},
		Resources: []string{resource}}
	if a.GetName() != "" {
		r.ResourceNames = []string{a.GetName()}
	}
	return r
}

// roleRules are the rules of the Role (in ns) or ClusterRole a binding refers to.
func (p *policy) roleRules(ns string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "ClusterRole":
		var r rbacv1.ClusterRole
		ok, err := p.get("clusterroles", "", ref.Name, &r)
		if !ok || err != nil {
			return nil, err
		}
		return r.Rules, nil
	case "Role":
		var r rbacv1.Role
		ok, err := p.get("roles", ns, ref.Name, &r)
		if !ok || err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	return nil, nil
}

// bound says whether one of the subjects is the user. bindingNS is the
// default namespace of a ServiceAccount subject ("" for ClusterRoleBindings).
func bound(subjects []rbacv1.Subject, bindingNS string, u user.Info) bool {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == u.GetName() {
				return true
			}
		case rbacv1.GroupKind:
			for _, g := range u.GetGroups() {
				if g == s.Name {
					return true
				}
			}
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = bindingNS
			}
			if ns != "" && serviceaccount.MakeUsername(ns, s.Name) == u.GetName() {
				return true
			}
		}
	}
	return false
}
