// Pod Security admission for pod creates: a check of ours, not upstream's
// k8s.io/pod-security-admission (Debian does not package it).
//
// When a pod's namespace carries pod-security.kubernetes.io/enforce=baseline
// or =restricted, a pod create is refused with 403
//
//	pods "NAME" is forbidden: violates PodSecurity "LEVEL:latest": REASON (DETAIL), ...
//
// if it fails one of the checks that the Pod Security Standards publish for
// that level (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// implemented here from that list and nothing more:
//
//	baseline:   hostProcess, host namespaces, privileged, capabilities beyond the
//	            default set, hostPath volumes, host ports, AppArmor Unconfined,
//	            SELinux type/user/role, procMount, seccomp Unconfined, unsafe sysctls;
//	restricted: baseline plus volume types, allowPrivilegeEscalation=false,
//	            runAsNonRoot=true, runAsUser!=0, seccomp RuntimeDefault/Localhost,
//	            capabilities drop ALL and add at most NET_BIND_SERVICE.
//
// Checked: pod creates and server-side apply of pods (its body is the whole intent; it
// creates the pod when there is none). Other updates are not (a pod's checked fields are
// immutable). The version label is ignored (always "latest"); there are no exemptions.
package main

import (
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

const enforceLabel = "pod-security.kubernetes.io/enforce"

// admitPod reports whether a pod create may go on; if not, it wrote the 403.
func (p *policy) admitPod(w http.ResponseWriter, r *http.Request, namespace string, body []byte) bool {
	var ns corev1.Namespace
	if ok, err := p.get("namespaces", "", namespace, &ns); err != nil || !ok {
		return true // no namespace object: nothing to enforce
	}
	level := ns.Labels[enforceLabel]
	if level != "baseline" && level != "restricted" {
		return true
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(body, &pod); err != nil {
		return true // the CRD handler will reject what does not decode
	}
	violations := baselineViolations(&pod.Spec, pod.Annotations)
	if level == "restricted" {
		violations = append(violations, restrictedViolations(&pod.Spec)...)
	}
	if len(violations) == 0 {
		return true
	}
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	fail(w, r, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, name,
		fmt.Errorf("violates PodSecurity %q: %s", level+":latest", strings.Join(violations, ", "))))
	return false
}

type namedContainer struct {
	name string
	sc   *corev1.SecurityContext
	c    *corev1.Container
}

func allContainers(spec *corev1.PodSpec) []namedContainer {
	var out []namedContainer
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		out = append(out, namedContainer{c.Name, c.SecurityContext, c})
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		out = append(out, namedContainer{c.Name, c.SecurityContext, c})
	}
	for i := range spec.EphemeralContainers {
		c := &spec.EphemeralContainers[i]
		out = append(out, namedContainer{c.Name, c.SecurityContext, nil})
	}
	return out
}

// failing collects "container "a", "b"" style lists per check.
type failing map[string][]string

func (f failing) add(check, container string) {
	f[check] = append(f[check], fmt.Sprintf("%q", container))
}

// detail words one check's failure: "REASON (containers "a", "b" MUST)", or with %s in
// MUST, "REASON (MUST with the containers in place of %s)".
type detail struct{ check, reason, must string }

func (f failing) describe(details []detail) []string {
	var v []string
	for _, d := range details {
		names := f[d.check]
		if len(names) == 0 {
			continue
		}
		if strings.Contains(d.must, "%s") {
			v = append(v, fmt.Sprintf("%s (%s)", d.reason, fmt.Sprintf(d.must, containersPhrase(names))))
		} else {
			v = append(v, fmt.Sprintf("%s (%s %s)", d.reason, containersPhrase(names), d.must))
		}
	}
	return v
}

func containersPhrase(names []string) string {
	if len(names) == 1 {
		return "container " + names[0]
	}
	return "containers " + strings.Join(names, ", ")
}

var baselineCaps = map[corev1.Capability]bool{"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true,
	"FOWNER": true, "FSETID": true, "KILL": true, "MKNOD": true, "NET_BIND_SERVICE": true, "SETFCAP": true,
	"SETGID": true, "SETPCAP": true, "SETUID": true, "SYS_CHROOT": true}

var safeSysctls = map[string]bool{"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true,
	"net.ipv4.ip_unprivileged_port_start": true, "net.ipv4.tcp_syncookies": true, "net.ipv4.ping_group_range": true,
	"net.ipv4.ip_local_reserved_ports": true, "net.ipv4.tcp_keepalive_time": true, "net.ipv4.tcp_fin_timeout": true,
	"net.ipv4.tcp_keepalive_intvl": true, "net.ipv4.tcp_keepalive_probes": true, "net.ipv4.tcp_rmem": true,
	"net.ipv4.tcp_wmem": true}

var seLinuxTypes = map[string]bool{"": true, "container_t": true, "container_init_t": true,
	"container_kvm_t": true, "container_engine_t": true}

// baselineViolations: the baseline level's published checks.
func baselineViolations(spec *corev1.PodSpec, annotations map[string]string) []string {
	var v []string
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	bad := failing{}
	if psc.WindowsOptions != nil && psc.WindowsOptions.HostProcess != nil && *psc.WindowsOptions.HostProcess {
		v = append(v, "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)")
	}
	var hostNS []string
	for _, f := range []struct {
		flag string
		set  bool
	}{{"hostNetwork", spec.HostNetwork}, {"hostPID", spec.HostPID}, {"hostIPC", spec.HostIPC}} {
		if f.set {
			hostNS = append(hostNS, f.flag+"=true")
		}
	}
	if len(hostNS) > 0 {
		v = append(v, "host namespaces ("+strings.Join(hostNS, ", ")+")")
	}
	for _, vol := range spec.Volumes {
		if vol.HostPath != nil {
			v = append(v, fmt.Sprintf("hostPath volumes (volume %q)", vol.Name))
		}
	}
	for _, sysctl := range psc.Sysctls {
		if !safeSysctls[sysctl.Name] {
			v = append(v, fmt.Sprintf("forbidden sysctls (%s)", sysctl.Name))
		}
	}
	if psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
		v = append(v, "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")")
	}
	if psc.AppArmorProfile != nil && psc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
		v = append(v, "forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to \"Unconfined\")")
	}
	for k, val := range annotations {
		if strings.HasPrefix(k, "container.apparmor.security.beta.kubernetes.io/") && val == "unconfined" {
			v = append(v, fmt.Sprintf("forbidden AppArmor profile (%s=%q)", k, val))
		}
	}
	if o := psc.SELinuxOptions; o != nil && (!seLinuxTypes[o.Type] || o.User != "" || o.Role != "") {
		v = append(v, "seLinuxOptions (pod must not set securityContext.seLinuxOptions.user, .role, or a type other than container_t)")
	}
	for _, c := range allContainers(spec) {
		sc := c.sc
		if c.c != nil {
			for _, port := range c.c.Ports {
				if port.HostPort != 0 {
					bad.add("hostPort", c.name)
					break
				}
			}
		}
		if sc == nil {
			continue
		}
		if sc.Privileged != nil && *sc.Privileged {
			bad.add("privileged", c.name)
		}
		if sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess {
			bad.add("hostProcess", c.name)
		}
		if sc.Capabilities != nil {
			for _, add := range sc.Capabilities.Add {
				if !baselineCaps[add] {
					bad.add("capabilities", c.name)
					break
				}
			}
		}
		if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			bad.add("procMount", c.name)
		}
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			bad.add("seccomp", c.name)
		}
		if sc.AppArmorProfile != nil && sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
			bad.add("apparmor", c.name)
		}
		if o := sc.SELinuxOptions; o != nil && (!seLinuxTypes[o.Type] || o.User != "" || o.Role != "") {
			bad.add("selinux", c.name)
		}
	}
	details := []detail{
		{"privileged", "privileged", "must not set securityContext.privileged=true"},
		{"hostProcess", "hostProcess", "must not set securityContext.windowsOptions.hostProcess=true"},
		{"capabilities", "non-default capabilities", "must not include capabilities beyond the default set in securityContext.capabilities.add"},
		{"hostPort", "hostPort", "must not set hostPort"},
		{"procMount", "procMount", "must not set securityContext.procMount"},
		{"seccomp", "seccompProfile", "must not set securityContext.seccompProfile.type to \"Unconfined\""},
		{"apparmor", "forbidden AppArmor profile", "must not set securityContext.appArmorProfile.type to \"Unconfined\""},
		{"selinux", "seLinuxOptions", "must not set securityContext.seLinuxOptions.user, .role, or a type other than container_t"},
	}
	return append(v, bad.describe(details)...)
}

var restrictedVolumeOK = func(vol corev1.Volume) bool {
	s := vol.VolumeSource
	return s.ConfigMap != nil || s.CSI != nil || s.DownwardAPI != nil || s.EmptyDir != nil ||
		s.Ephemeral != nil || s.PersistentVolumeClaim != nil || s.Projected != nil || s.Secret != nil ||
		s.Image != nil
}

// restrictedViolations: the checks the restricted level adds to baseline.
func restrictedViolations(spec *corev1.PodSpec) []string {
	var v []string
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, vol := range spec.Volumes {
		if vol.HostPath == nil && !restrictedVolumeOK(vol) {
			v = append(v, fmt.Sprintf("restricted volume types (volume %q uses a type the restricted level does not allow)", vol.Name))
		}
	}
	podNonRoot := psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	podSeccomp := psc.SeccompProfile != nil && (psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault ||
		psc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost)
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		v = append(v, "runAsUser=0 (pod must not set runAsUser=0)")
	}
	bad := failing{}
	for _, c := range allContainers(spec) {
		sc := c.sc
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			bad.add("escalation", c.name)
		}
		dropsAll := false
		if sc.Capabilities != nil {
			for _, d := range sc.Capabilities.Drop {
				dropsAll = dropsAll || d == "ALL"
			}
			for _, a := range sc.Capabilities.Add {
				if a != "NET_BIND_SERVICE" {
					bad.add("capsAdd", c.name)
					break
				}
			}
		}
		if !dropsAll {
			bad.add("capsDrop", c.name)
		}
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			bad.add("nonRootFalse", c.name)
		} else if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
			bad.add("nonRoot", c.name)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			bad.add("uid0", c.name)
		}
		ok := sc.SeccompProfile != nil && (sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault ||
			sc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost)
		if !ok && !(podSeccomp && sc.SeccompProfile == nil) {
			bad.add("seccomp", c.name)
		}
	}
	details := []detail{
		{"escalation", "allowPrivilegeEscalation != false", "must set securityContext.allowPrivilegeEscalation=false"},
		{"capsDrop", "unrestricted capabilities", "must set securityContext.capabilities.drop=[\"ALL\"]"},
		{"capsAdd", "unrestricted capabilities", "must not include capabilities other than NET_BIND_SERVICE in securityContext.capabilities.add"},
		{"nonRootFalse", "runAsNonRoot != true", "must not set securityContext.runAsNonRoot=false"},
		{"nonRoot", "runAsNonRoot != true", "pod or %s must set securityContext.runAsNonRoot=true"},
		{"uid0", "runAsUser=0", "must not set runAsUser=0"},
		{"seccomp", "seccompProfile", "pod or %s must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""},
	}
	return append(v, bad.describe(details)...)
}
