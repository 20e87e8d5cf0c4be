package history

import (
	"bytes"
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// schemas are the typed structs strategic merge patch needs for its list
// merge keys, by group and resource. Other kinds (custom resources) take
// a JSON merge patch, which is what the API server does for them.
var schemas = map[[2]string]any{
	{"", "pods"}: corev1.Pod{}, {"", "services"}: corev1.Service{}, {"", "configmaps"}: corev1.ConfigMap{},
	{"", "secrets"}: corev1.Secret{}, {"", "serviceaccounts"}: corev1.ServiceAccount{}, {"", "namespaces"}: corev1.Namespace{},
	{"", "nodes"}: corev1.Node{}, {"", "persistentvolumeclaims"}: corev1.PersistentVolumeClaim{},
	{"", "persistentvolumes"}: corev1.PersistentVolume{},
	//lint:ignore SA1019 Endpoints are deprecated but still written, so still in audit logs
	{"", "endpoints"}:              corev1.Endpoints{},
	{"", "replicationcontrollers"}: corev1.ReplicationController{},
	{"apps", "deployments"}:        appsv1.Deployment{}, {"apps", "statefulsets"}: appsv1.StatefulSet{},
	{"apps", "daemonsets"}: appsv1.DaemonSet{}, {"apps", "replicasets"}: appsv1.ReplicaSet{},
	{"batch", "jobs"}: batchv1.Job{}, {"batch", "cronjobs"}: batchv1.CronJob{},
	{"networking.k8s.io", "ingresses"}: networkingv1.Ingress{}, {"networking.k8s.io", "networkpolicies"}: networkingv1.NetworkPolicy{},
	{"policy", "poddisruptionbudgets"}:     policyv1.PodDisruptionBudget{},
	{"rbac.authorization.k8s.io", "roles"}: rbacv1.Role{}, {"rbac.authorization.k8s.io", "clusterroles"}: rbacv1.ClusterRole{},
	{"rbac.authorization.k8s.io", "rolebindings"}: rbacv1.RoleBinding{}, {"rbac.authorization.k8s.io", "clusterrolebindings"}: rbacv1.ClusterRoleBinding{},
}

// applyPatch applies patch to prev. The audit event does not record the
// patch's content type, so it is read from the body: an array is a JSON
// patch; an object is a strategic merge patch for the kinds in schemas
// (kubectl's default for them), else a JSON merge patch. It says which.
func applyPatch(prev map[string]any, patch json.RawMessage, group, resource string) (obj map[string]any, how string, err error) {
	defer func() {
		if r := recover(); r != nil { // a hostile patch must not stop the timeline
			obj, how, err = nil, "", fmt.Errorf("patch: %v", r)
		}
	}()
	orig, err := json.Marshal(prev)
	if err != nil {
		return nil, "", err
	}
	patch = bytes.TrimSpace(patch)
	var out []byte
	switch {
	case len(patch) > 0 && patch[0] == '[':
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, "", err
		}
		out, err = p.Apply(orig)
		if err != nil {
			return nil, "", err
		}
		how = "JSON patch applied to the previous revision"
	case schemas[[2]string{group, resource}] != nil:
		out, err = strategicpatch.StrategicMergePatch(orig, patch, schemas[[2]string{group, resource}])
		if err != nil {
			return nil, "", err
		}
		how = "strategic merge patch applied to the previous revision"
	default:
		out, err = jsonpatch.MergePatch(orig, patch)
		if err != nil {
			return nil, "", err
		}
		how = "JSON merge patch applied to the previous revision (no strategic schema for " + resource + ")"
	}
	m := object(out)
	if m == nil {
		return nil, "", fmt.Errorf("patch result is not an object")
	}
	return m, how, nil
}
