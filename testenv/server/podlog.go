// pods/log, served as kube-apiserver serves it: the API server finds the
// pod's node and proxies the request to that node's kubelet.
//
// GET /api/v1/namespaces/N/pods/P/log[?container=C&follow=true&tailLines=K
// &previous=true&timestamps=true&limitBytes=B&sinceSeconds=S] reads the pod
// (spec.nodeName, spec.containers) and its Node (status.addresses InternalIP
// and status.daemonEndpoints.kubeletEndpoint.Port) from this server's own
// storage, checks the options as kube-apiserver's pod log REST storage does
// (the container must be named when the pod has several), and streams
// http://<address>:<port>/containerLogs/N/P/C?... back, passing every flush on
// so that follow works. The local agent (localagent/agent_log_server.cc) is
// the "kubelet" that answers.
//
// Authorization happened before this filter (verb get on pods/log). Reading
// the pod and the node is internal, as it is inside kube-apiserver.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// podLogPath returns namespace and pod for /api/v1/namespaces/N/pods/P/log.
func podLogPath(p string) (string, string, bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/api/v1/"), "/")
	if len(parts) != 5 || parts[0] != "namespaces" || parts[2] != "pods" || parts[4] != "log" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// withLongRunningLogs makes pods/log long-running (no request timeout), as
// kube-apiserver's own check does for the log subresource.
func withLongRunningLogs(next apirequest.LongRunningRequestCheck) apirequest.LongRunningRequestCheck {
	return func(r *http.Request, info *apirequest.RequestInfo) bool {
		if info != nil && info.IsResourceRequest && info.Resource == "pods" && info.Subresource == "log" {
			return true
		}
		return next != nil && next(r, info)
	}
}

type logPod struct {
	Spec struct {
		NodeName   string `json:"nodeName"`
		Containers []struct {
			Name string `json:"name"`
		} `json:"containers"`
	} `json:"spec"`
}

type logNode struct {
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
		DaemonEndpoints struct {
			KubeletEndpoint struct {
				Port int `json:"Port"`
			} `json:"kubeletEndpoint"`
		} `json:"daemonEndpoints"`
	} `json:"status"`
}

var podsGR = schema.GroupResource{Resource: "pods"}

// servePodLog answers GET .../pods/P/log.
func (c *coreAPI) servePodLog(w http.ResponseWriter, r *http.Request, ns, name string) {
	if r.Method != http.MethodGet {
		fail(w, r, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "pods/log"}, r.Method))
		return
	}
	q := r.URL.Query()
	if err := checkLogOptions(q); err != nil {
		fail(w, r, err)
		return
	}
	var pod logPod
	if err := c.readInternal(r, "/namespaces/"+ns+"/pods/"+name, podsGR, name, &pod); err != nil {
		fail(w, r, err)
		return
	}
	container, err := pickContainer(name, q.Get("container"), &pod)
	if err != nil {
		fail(w, r, err)
		return
	}
	if pod.Spec.NodeName == "" {
		fail(w, r, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name)))
		return
	}
	var node logNode
	nodeGR := schema.GroupResource{Resource: "nodes"}
	if err := c.readInternal(r, "/nodes/"+pod.Spec.NodeName, nodeGR, pod.Spec.NodeName, &node); err != nil {
		fail(w, r, err)
		return
	}
	base, err := kubeletURL(pod.Spec.NodeName, &node)
	if err != nil {
		fail(w, r, err)
		return
	}
	target := base + "/containerLogs/" + url.PathEscape(ns) + "/" + url.PathEscape(name) + "/" +
		url.PathEscape(container) + "?" + kubeletQuery(q).Encode()
	proxyLog(w, r, target)
}

// checkLogOptions validates the numeric options as PodLogOptions validation does.
func checkLogOptions(q url.Values) error {
	for _, key := range []string{"tailLines", "limitBytes", "sinceSeconds"} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || (key != "tailLines" && n == 0) {
			return apierrors.NewBadRequest(fmt.Sprintf("%s: Invalid value: %q: must be a non-negative integer", key, v))
		}
	}
	return nil
}

// pickContainer is the container to read, with kube-apiserver's messages.
func pickContainer(pod, asked string, p *logPod) (string, error) {
	var names []string
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
		if asked != "" && c.Name == asked {
			return asked, nil
		}
	}
	if asked != "" {
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", asked, pod))
	}
	if len(names) == 1 {
		return names[0], nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf(
		"a container name must be specified for pod %s, choose one of: %v", pod, names))
}

// kubeletURL is http://<InternalIP>:<kubelet port> of a node.
func kubeletURL(nodeName string, n *logNode) (string, error) {
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	host := ""
	for _, a := range n.Status.Addresses {
		if a.Type == "InternalIP" && host == "" {
			host = a.Address
		}
	}
	if port <= 0 || host == "" {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf(
			"node %s publishes no kubelet endpoint (status.addresses InternalIP and status.daemonEndpoints.kubeletEndpoint.Port)", nodeName))
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// kubeletQuery keeps the options the kubelet understands.
func kubeletQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, key := range []string{"follow", "tailLines", "previous", "timestamps", "limitBytes", "sinceSeconds"} {
		if v := q.Get(key); v != "" {
			out.Set(key, v)
		}
	}
	return out
}

// readInternal GETs one object of the private core group through the CRD
// handler, as the server itself (no second authorization).
func (c *coreAPI) readInternal(r *http.Request, rel string, gr schema.GroupResource, name string, into interface{}) error {
	r2, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/apis/"+c.group+"/v1"+rel, nil)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	r2.Header.Set("Accept", "application/json")
	info, err := c.resolver.NewRequestInfo(r2)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	ctx := apirequest.WithRequestInfo(r2.Context(), info)
	if user, ok := apirequest.UserFrom(r.Context()); ok {
		ctx = apirequest.WithUser(ctx, user)
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r2.WithContext(ctx))
	switch {
	case rec.Code == http.StatusNotFound:
		return apierrors.NewNotFound(gr, name)
	case rec.Code != http.StatusOK:
		return apierrors.NewInternalError(fmt.Errorf("reading %s %q: HTTP %d: %s", gr.Resource, name, rec.Code, rec.Body.String()))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
		return apierrors.NewInternalError(fmt.Errorf("reading %s %q: %v", gr.Resource, name, err))
	}
	return nil
}

var kubeletClient = &http.Client{Transport: &http.Transport{
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	ResponseHeaderTimeout: 30 * time.Second,
}}

// proxyLog streams the kubelet's answer back, flushing after every read.
func proxyLog(w http.ResponseWriter, r *http.Request, target string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fail(w, r, apierrors.NewInternalError(err))
		return
	}
	resp, err := kubeletClient.Do(req)
	if err != nil {
		fail(w, r, apierrors.NewServiceUnavailable("the kubelet did not answer: "+err.Error()))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		text := strings.TrimSpace(string(msg))
		switch resp.StatusCode {
		case http.StatusNotFound:
			fail(w, r, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
				Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound, Message: text}})
		case http.StatusBadRequest:
			fail(w, r, apierrors.NewBadRequest(text))
		default:
			fail(w, r, apierrors.NewInternalError(fmt.Errorf("kubelet: HTTP %d: %s", resp.StatusCode, text)))
		}
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flush := http.NewResponseController(w)
	_ = flush.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = flush.Flush()
		}
		if err != nil {
			return
		}
	}
}
