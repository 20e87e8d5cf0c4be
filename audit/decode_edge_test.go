package audit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// edgeCase is a hand-written document with the error class Decode must
// return and, optionally, a check of what it decoded. All of them also seed
// FuzzDecode and are compared with the reference in TestDecodeFastMatchesStd.
type edgeCase struct {
	name  string
	doc   string
	class string // as errClass reports it
	msg   string // if set, the error's message
	check func(t *testing.T, evs []Event)
}

// ev builds an Event document from extra fields.
func ev(fields string) string {
	doc := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete"`
	if fields != "" {
		doc += "," + fields
	}
	return doc + "}"
}

// one checks the single decoded event.
func one(f func(t *testing.T, e Event)) func(*testing.T, []Event) {
	return func(t *testing.T, evs []Event) {
		t.Helper()
		if len(evs) != 1 {
			t.Fatalf("got %d events, want 1", len(evs))
		}
		f(t, evs[0])
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func user(name string, groups ...string) func(*testing.T, []Event) {
	return one(func(t *testing.T, e Event) {
		eq(t, "User.Name", e.User.Name, name)
		eq(t, "User.Groups", e.User.Groups, groups)
	})
}

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

var edgeCases = []edgeCase{
	// Strings: escapes, surrogates, invalid UTF-8.
	{name: "escapes", doc: ev(`"requestURI":"/api/v1/pods?limit=500\u0026watch=true","verb":"w\u0061tch\/\"\\\b\f\n\r\t"`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "RequestURI", e.RequestURI, "/api/v1/pods?limit=500&watch=true")
			eq(t, "Verb", e.Verb, "watch/\"\\\b\f\n\r\t")
			eq(t, "LongRunning", e.LongRunning(), true)
		})},
	{name: "escaped key", doc: ev(`"\u0076erb":"get"`), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "get") })},
	{name: "surrogate pair", doc: ev(`"user":{"username":"\ud83d\ude00"}`), class: "nil", check: user("😀")},
	{name: "lone high surrogate", doc: ev(`"user":{"username":"\ud800x"}`), class: "nil", check: user("\uFFFDx")},
	{name: "high surrogate then other escape", doc: ev(`"user":{"username":"\ud800\u0041"}`), class: "nil", check: user("\uFFFDA")},
	{name: "lone low surrogate", doc: ev(`"user":{"username":"\udc00"}`), class: "nil", check: user("\uFFFD")},
	{name: "high high low", doc: ev(`"user":{"username":"\uD800\uD800\uDC00"}`), class: "nil", check: user("\uFFFD\U00010000")},
	{name: "invalid UTF-8", doc: ev("\"user\":{\"username\":\"b\xffob\"}"), class: "nil", check: one(func(t *testing.T, e Event) {
		eq(t, "User.Name", e.User.Name, "b\uFFFDob")
		eq(t, "BadUTF8", e.BadUTF8, true)
	})},
	{name: "UTF-8 surrogate bytes", doc: ev("\"user\":{\"username\":\"\xed\xa0\x80\xc0\xaf\xe2\x82\"}"), class: "nil",
		check: user(strings.Repeat("\uFFFD", 7))},
	{name: "invalid UTF-8 with escapes", doc: ev("\"user\":{\"username\":\"\\n\xff\"}"), class: "nil", check: user("\n\uFFFD")},
	{name: "invalid UTF-8 only in body", doc: ev("\"requestObject\":{\"x\":\"\xff\"},\"verb\":\"get\""), class: "nil",
		check: one(func(t *testing.T, e Event) {
			eq(t, "Verb", e.Verb, "get")
			eq(t, "BadUTF8", e.BadUTF8, true)
		})},
	{name: "valid non-ASCII", doc: ev(`"user":{"username":"José ✓ 😀"}`), class: "nil", check: one(func(t *testing.T, e Event) {
		eq(t, "User.Name", e.User.Name, "José ✓ 😀")
		eq(t, "BadUTF8", e.BadUTF8, false)
	})},
	{name: "literal U+FFFD is valid", doc: ev(`"verb":"\uFFFD�"`), class: "nil", check: one(func(t *testing.T, e Event) {
		eq(t, "Verb", e.Verb, "\uFFFD\uFFFD")
		eq(t, "BadUTF8", e.BadUTF8, false)
	})},
	{name: "invalid UTF-8 in key", doc: ev("\"verb\xff\":\"get\""), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "") })},

	// Keys: encoding/json matches them case-insensitively, with its own folding.
	{name: "case-insensitive keys", doc: `{"KIND":"Event","ApiVersion":"audit.k8s.io/v1","AUDITid":"x","Stage":"Panic","USER":{"UserName":"u","GROUPS":["g"]},"objectref":{"NAMESPACE":"ns"},"responsestatus":{"CODE":500}}`,
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Stage", e.Stage, StagePanic)
			eq(t, "User", e.User, UserInfo{Name: "u", Groups: []string{"g"}})
			eq(t, "Namespace", e.Object.Namespace, "ns")
			eq(t, "Code", e.Code, int32(500))
		})},
	{name: "Kelvin sign and long s fold", doc: `{"\u212Aind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x","ſtage":"Panic","\u017FourceIPs":["ip"]}`,
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Stage", e.Stage, StagePanic)
			eq(t, "SourceIP", e.SourceIP, "ip")
		})},
	{name: "raw Kelvin sign folds", doc: "{\"\u212Aind\":\"Event\",\"\u212AIND\":0,\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"x\"}",
		class: "unrecognised", msg: "not an audit event: field kind holds a JSON number"},
	{name: "dotless and dotted i do not fold", doc: `{"kind":"Event","apiVersion":"audit.k8s.io/v1","audıtID":"x","İmpersonatedUser":{"username":"imp"}}`,
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "AuditID", e.AuditID, "")
			eq(t, "Impersonated.Name", e.Impersonated.Name, "")
		})},
	{name: "other non-ASCII does not fold", doc: `{"ⓚind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","vErb\u00e9":"x"}`,
		class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "get") })},

	// Duplicate keys decode again into the same place.
	{name: "duplicate scalar", doc: ev(`"verb":"get","verb":"list"`), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "list") })},
	{name: "duplicate user merges", doc: ev(`"user":{"username":"a","groups":["g1"]},"user":{"username":"b"}`), class: "nil", check: user("b", "g1")},
	{name: "duplicate groups replaced", doc: ev(`"user":{"groups":["a","b"],"groups":["c"]}`), class: "nil", check: user("", "c")},
	{name: "reused groups keep values under null", doc: ev(`"user":{"groups":["a","b","c"]},"user":{"groups":["x"]},"user":{"groups":[null,null,null]}`),
		class: "nil", check: user("", "x", "b", "c")},
	{name: "reused groups after reset", doc: ev(`"user":{"groups":["a","b"],"groups":[],"groups":[null,"y"]}`), class: "nil", check: user("", "", "y")},
	{name: "null group element", doc: ev(`"user":{"groups":[null,"a"]}`), class: "nil", check: user("", "", "a")},
	{name: "empty groups", doc: ev(`"user":{"groups":[]}`), class: "nil", check: user("", []string{}...)},
	{name: "null groups", doc: ev(`"user":{"groups":["a"],"groups":null}`), class: "nil", check: user("")},
	{name: "many groups", doc: ev(`"user":{"groups":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18"]}`), class: "nil",
		check: user("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18")},
	{name: "sourceIPs null first element keeps", doc: ev(`"sourceIPs":["1.1.1.1"],"sourceIPs":[null,"2.2.2.2"]`), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "SourceIP", e.SourceIP, "1.1.1.1") })},
	{name: "sourceIPs reset", doc: ev(`"sourceIPs":["1.1.1.1"],"sourceIPs":[],"sourceIPs":[null]`), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "SourceIP", e.SourceIP, "") })},
	{name: "annotations merge", doc: ev(`"annotations":{"authorization.k8s.io/decision":"forbid"},"annotations":{"authorization.k8s.io/reason":"r"}`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Decision", e.Decision, "forbid")
			eq(t, "Reason", e.Reason, "r")
			eq(t, "Denied", e.Denied(), true)
		})},
	{name: "annotations null clears", doc: ev(`"annotations":{"authorization.k8s.io/decision":"forbid","apiserver.latency.k8s.io/etcd":"1ms"},"annotations":null,"annotations":{"authorization.k8s.io/reason":"r"}`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Decision", e.Decision, "")
			eq(t, "Reason", e.Reason, "r")
			eq(t, "Phases", e.Phases, []Phase(nil))
		})},
	{name: "annotation value null", doc: ev(`"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/decision":null}`),
		class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Decision", e.Decision, "") })},

	// Latency annotations.
	{name: "latency phases", doc: ev(`"annotations":{"apiserver.latency.k8s.io/total":"2.5s","apiserver.latency.k8s.io/etcd":"1.5ms","apiserver.latency.k8s.io/admission":"bogus","apiserver.latency.k8s.io\/response-write":"700ns"}`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Phases", e.Phases, []Phase{{"etcd", 1500 * time.Microsecond}, {"response-write", 700}, {"total", 2500 * time.Millisecond}})
		})},
	{name: "latency overwritten by invalid", doc: ev(`"annotations":{"apiserver.latency.k8s.io/etcd":"1ms","apiserver.latency.k8s.io/etcd":"x"}`),
		class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Phases", e.Phases, []Phase(nil)) })},
	{name: "latency overwritten by valid", doc: ev(`"annotations":{"apiserver.latency.k8s.io/etcd":"x","apiserver.latency.k8s.io/etcd":"2ms","apiserver.latency.k8s.io/etcd":"3ms"}`),
		class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Phases", e.Phases, []Phase{{"etcd", 3 * time.Millisecond}}) })},

	// null leaves strings and structs alone.
	{name: "nulls", doc: ev(`"verb":"get","verb":null,"user":{"username":"u"},"user":null,"objectRef":null,"responseStatus":{"code":404},"responseStatus":{"code":null},"sourceIPs":null,"metadata":null,"timestamp":null`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Verb", e.Verb, "get")
			eq(t, "User.Name", e.User.Name, "u")
			eq(t, "Code", e.Code, int32(404))
		})},

	// responseStatus.code is an int32, decoded like encoding/json does.
	{name: "code -0", doc: ev(`"responseStatus":{"code":-0}`), class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Code", e.Code, int32(0)) })},
	{name: "code max", doc: ev(`"responseStatus":{"code":2147483647}`), class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Code", e.Code, int32(2147483647)) })},
	{name: "code min", doc: ev(`"responseStatus":{"code":-2147483648}`), class: "nil", check: one(func(t *testing.T, e Event) { eq(t, "Code", e.Code, int32(-2147483648)) })},
	{name: "code exponent", doc: ev(`"responseStatus":{"code":1e2}`), class: "unrecognised", msg: "not an audit event: field responseStatus.code holds a JSON number 1e2"},
	{name: "code fraction", doc: ev(`"responseStatus":{"code":200.0}`), class: "unrecognised"},
	{name: "code overflow", doc: ev(`"responseStatus":{"code":2147483648}`), class: "unrecognised"},
	{name: "code underflow", doc: ev(`"responseStatus":{"code":-2147483649}`), class: "unrecognised"},
	{name: "code huge", doc: ev(`"responseStatus":{"code":99999999999999999999999}`), class: "unrecognised"},
	{name: "code string", doc: ev(`"responseStatus":{"code":"200"}`), class: "unrecognised", msg: "not an audit event: field responseStatus.code holds a JSON string"},

	// Values of the wrong type make the document unrecognised.
	{name: "kind 0", doc: `{"kind":0}`, class: "unrecognised", msg: "not an audit event: field kind holds a JSON number"},
	{name: "verb number", doc: ev(`"verb":1`), class: "unrecognised", msg: "not an audit event: field verb holds a JSON number"},
	{name: "user string", doc: ev(`"user":"bob"`), class: "unrecognised", msg: "not an audit event: field user holds a JSON string"},
	{name: "groups string", doc: ev(`"impersonatedUser":{"groups":"g"}`), class: "unrecognised", msg: "not an audit event: field impersonatedUser.groups holds a JSON string"},
	{name: "group number", doc: ev(`"user":{"groups":["a",1]}`), class: "unrecognised", msg: "not an audit event: field user.groups holds a JSON number"},
	{name: "objectRef field bool", doc: ev(`"objectRef":{"NAME":true}`), class: "unrecognised", msg: "not an audit event: field objectRef.name holds a JSON bool"},
	{name: "sourceIP object", doc: ev(`"sourceIPs":["a",{}]`), class: "unrecognised", msg: "not an audit event: field sourceIPs holds a JSON object"},
	{name: "annotations array", doc: ev(`"annotations":[]`), class: "unrecognised", msg: "not an audit event: field annotations holds a JSON array"},
	{name: "annotation number", doc: ev(`"annotations":{"other":1}`), class: "unrecognised", msg: "not an audit event: field annotations holds a JSON number"},
	{name: "metadata number", doc: ev(`"metadata":1`), class: "unrecognised"},
	{name: "first type error wins", doc: ev(`"stage":true,"verb":[]`), class: "unrecognised", msg: "not an audit event: field stage holds a JSON bool"},
	{name: "items object", doc: ev(`"items":{}`), class: "unrecognised", msg: "not an audit event: field items holds a JSON object"},
	{name: "items ignored in an event", doc: ev(`"items":[1,"x",{"verb":5}],"verb":"get"`), class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "get") })},
	{name: "syntax error beats type error", doc: ev(`"verb":1,"x":tru`), class: "syntax", msg: "malformed JSON at byte 106: invalid character '}' in literal true (expecting 'e')"},

	// Shapes.
	{name: "AdmissionReview", doc: `{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x"}}`,
		class: "unrecognised", msg: `not an audit event: kind "AdmissionReview" (admission.k8s.io/v1)`},
	{name: "other kind in audit group", doc: `{"kind":"Policy","apiVersion":"audit.k8s.io/v1"}`, class: "unrecognised"},
	{name: "event of another group", doc: `{"kind":"Event","apiVersion":"v1","involvedObject":{}}`, class: "unrecognised", msg: `not an audit event: kind "Event" (v1)`},
	{name: "empty object", doc: `{}`, class: "unrecognised", msg: "not an audit event: an empty object"},
	{name: "null document", doc: `null`, class: "unrecognised", msg: "not an audit event: an empty object"},
	{name: "array document", doc: `[]`, class: "unrecognised", msg: "not an audit event: field  holds a JSON array"},
	{name: "string document", doc: `"x"`, class: "unrecognised"},
	{name: "number document", doc: ` 12 `, class: "unrecognised"},
	{name: "bool document", doc: `false`, class: "unrecognised"},
	{name: "many keys", doc: `{"g":1,"f":2,"e":3,"d":4,"c":5,"b":6,"a":7,"a":8,"\u0068":9}`, class: "unrecognised",
		msg: "not an audit event: an object with keys a, b, c, d, e, …"},
	{name: "cloud logging entry", doc: `{"protoPayload":{"methodName":"io.k8s.get"},"insertId":"1"}`, class: "unrecognised",
		msg: "not an audit event: a Google Cloud Logging entry (protoPayload); kaudit replay reads these only in files whose first 8 KiB show a cloud export"},
	{name: "CloudWatch envelope", doc: `{"messageType":"DATA_MESSAGE","logEvents":[{"message":"{}"}]}`, class: "unrecognised"},
	{name: "bare item", doc: `{"auditID":"x","stage":"ResponseComplete","verb":"get"}`, class: "nil",
		check: one(func(t *testing.T, e Event) { eq(t, "Verb", e.Verb, "get") })},
	{name: "item without stage", doc: `{"auditID":"x","verb":"get"}`, class: "unrecognised"},
	{name: "no apiVersion", doc: `{"kind":"Event","auditID":"x","verb":"get"}`, class: "nil"},
	{name: "whitespace around", doc: " \t\r\n" + ev("") + "\n\n", class: "nil", check: one(func(t *testing.T, e Event) {
		eq(t, "Raw", string(e.Raw), " \t\r\n"+ev("")+"\n\n")
	})},
	{name: "v1alpha1 apiVersion with group", doc: ev(`"objectRef":{"apiVersion":"apps/v1","resource":"deployments"}`), class: "nil",
		check: one(func(t *testing.T, e Event) {
			eq(t, "Object", e.Object, ObjectRef{APIGroup: "apps", APIVersion: "v1", Resource: "deployments"})
		})},

	// EventLists.
	{name: "list items before kind", doc: `{"items":[` + ev(`"verb":"get"`) + `,{"auditID":"b","verb":"list"}],"kind":"EventList","apiVersion":"audit.k8s.io/v1"}`,
		class: "nil", check: func(t *testing.T, evs []Event) {
			eq(t, "len", len(evs), 2)
			eq(t, "Verb[1]", evs[1].Verb, "list")
			eq(t, "Raw[1]", string(evs[1].Raw), `{"auditID":"b","verb":"list"}`)
		}},
	{name: "list duplicate items", doc: `{"kind":"EventList","items":[{"verb":"a"}],"items":[{"verb":"b"},{"verb":"c"}]}`,
		class: "nil", check: func(t *testing.T, evs []Event) { eq(t, "len", len(evs), 2) }},
	{name: "list items null", doc: `{"kind":"EventList","items":[{"verb":"a"}],"items":null}`, class: "nil",
		check: func(t *testing.T, evs []Event) { eq(t, "len", len(evs), 0) }},
	{name: "list null item", doc: `{"kind":"EventList","items":[null, {"verb":"a"}]}`, class: "nil",
		check: func(t *testing.T, evs []Event) {
			eq(t, "len", len(evs), 2)
			eq(t, "Raw[0]", string(evs[0].Raw), "null")
		}},
	{name: "list bad items", doc: `{"kind":"EventList","items":[{"verb":"a"},5,{"verb":1},{"kind":0,"items":{},"verb":"d"}]}`,
		class: "item/unrecognised", msg: "items[1]: not an audit event: field  holds a JSON number",
		check: func(t *testing.T, evs []Event) {
			eq(t, "len", len(evs), 2)
			eq(t, "Verb[1]", evs[1].Verb, "d")
		}},
	{name: "list item type error names the field", doc: `{"kind":"EventList","items":[{"user":{"groups":{}}}]}`,
		class: "item/unrecognised", msg: "items[0]: not an audit event: field user.groups holds a JSON object"},
	{name: "list with a type error of its own", doc: `{"kind":"EventList","verb":5,"items":[{"verb":"a"}]}`, class: "unrecognised"},
	{name: "list of another group", doc: `{"kind":"EventList","apiVersion":"v1","items":[{"verb":"a"}]}`, class: "unrecognised"},
	{name: "list empty", doc: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1beta1"}`, class: "nil"},
	{name: "list item BadUTF8 is per item", doc: "{\"kind\":\"EventList\",\"items\":[{\"verb\":\"a\"},{\"verb\":\"\xff\"}]}", class: "nil",
		check: func(t *testing.T, evs []Event) {
			eq(t, "BadUTF8[0]", evs[0].BadUTF8, false)
			eq(t, "BadUTF8[1]", evs[1].BadUTF8, true)
		}},

	// Syntax errors, with encoding/json's message and offset.
	{name: "empty", doc: ``, class: "syntax", msg: "malformed JSON at byte 0: unexpected end of JSON input"},
	{name: "blank", doc: " \n\t", class: "syntax", msg: "malformed JSON at byte 3: unexpected end of JSON input"},
	{name: "BOM", doc: "\xef\xbb\xbf" + ev(""), class: "syntax", msg: "malformed JSON at byte 1: invalid character 'ï' looking for beginning of value"},
	{name: "two documents", doc: ev("") + ev(""), class: "syntax"},
	{name: "truncated", doc: ev("")[:40], class: "syntax", msg: "malformed JSON at byte 40: unexpected end of JSON input"},
	{name: "missing colon", doc: `{"a" 1}`, class: "syntax", msg: "malformed JSON at byte 6: invalid character '1' after object key"},
	{name: "missing comma", doc: `{"a":1 "b":2}`, class: "syntax", msg: "malformed JSON at byte 8: invalid character '\"' after object key:value pair"},
	{name: "trailing comma", doc: `{"a":[1,],}`, class: "syntax", msg: "malformed JSON at byte 9: invalid character ']' looking for beginning of value"},
	{name: "comma in object", doc: `{"verb":"a",}`, class: "syntax", msg: "malformed JSON at byte 13: invalid character '}' looking for beginning of object key string"},
	{name: "array without comma", doc: `{"a":[1 2]}`, class: "syntax", msg: "malformed JSON at byte 9: invalid character '2' after array element"},
	{name: "leading zero", doc: `{"a":01}`, class: "syntax"},
	{name: "lone minus", doc: `-`, class: "syntax", msg: "malformed JSON at byte 1: invalid character ' ' in numeric literal"},
	{name: "dot", doc: `{"a":1.}`, class: "syntax", msg: "malformed JSON at byte 8: invalid character '}' after decimal point in numeric literal"},
	{name: "exponent", doc: `[1e+]`, class: "syntax", msg: "malformed JSON at byte 5: invalid character ']' in exponent of numeric literal"},
	{name: "literal", doc: `{"verb":nul}`, class: "syntax", msg: "malformed JSON at byte 12: invalid character '}' in literal null (expecting 'l')"},
	{name: "literal at end", doc: `fals`, class: "syntax", msg: "malformed JSON at byte 4: invalid character ' ' in literal false (expecting 'e')"},
	{name: "control character", doc: "{\"verb\":\"a\tb\"}", class: "syntax", msg: `malformed JSON at byte 11: invalid character '\t' in string literal`},
	{name: "bad escape", doc: `{"verb":"\q"}`, class: "syntax", msg: "malformed JSON at byte 11: invalid character 'q' in string escape code"},
	{name: "bad hex escape", doc: `{"x":"\u12g4"}`, class: "syntax", msg: `malformed JSON at byte 11: invalid character 'g' in \u hexadecimal character escape`},
	{name: "escape at end", doc: `{"x":"\`, class: "syntax", msg: "malformed JSON at byte 7: invalid character ' ' in string escape code"},
	{name: "single quotes", doc: `{'a':1}`, class: "syntax", msg: `malformed JSON at byte 2: invalid character '\'' looking for beginning of object key string`},
	{name: "garbage after", doc: ev("") + "x", class: "syntax"},
	{name: "high byte outside string", doc: "{\"a\":\xff}", class: "syntax", msg: `malformed JSON at byte 6: invalid character 'ÿ' looking for beginning of value`},

	// String ends and escapes found in the masks: across 64-byte blocks
	// and the 1 KiB window, a lone surrogate right before the closing
	// quote with another \u string after it, long escaped values.
	{name: "surrogate at string end", doc: ev(`"verb":"get\ud800","userAgent":"\udc00x","requestURI":"` + strings.Repeat("/a", 40) + `"`),
		class: "nil", check: one(func(t *testing.T, e Event) {
			eq(t, "Verb", e.Verb, "get\uFFFD")
			eq(t, "UserAgent", e.UserAgent, "\uFFFDx")
		})},
	{name: "strings across blocks", doc: ev(maskFields(1, 3, 60, 61, 62, 63, 64, 65, 127, 128, 129, 700, 1000, 1023, 1024, 1025, 2100)), class: "nil"},
	{name: "escapes across blocks", doc: ev(`"annotations":{"authorization.k8s.io/reason":"` + strings.Repeat(`RBAC: allowed by \"x\" `, 120) + `"},"userAgent":"` +
		strings.Repeat(`a\u0041\n`, 200) + `"`), class: "nil", check: one(func(t *testing.T, e Event) {
		eq(t, "Reason", e.Reason, strings.Repeat(`RBAC: allowed by "x" `, 120))
		eq(t, "UserAgent", e.UserAgent, strings.Repeat("aA\n", 200))
	})},
	{name: "unterminated long string", doc: `{"kind":"Event","verb":"` + strings.Repeat("x", 1500), class: "syntax"},
	{name: "control character deep in a string", doc: ev(`"verb":"` + strings.Repeat("x", 1100) + "\x01" + `"`), class: "syntax"},

	// Limits.
	{name: "deep nesting at the limit", doc: ev(`"requestObject":` + nested("[", "]", maxDepth-1)), class: "nil"},
	{name: "deep nesting over the limit", doc: ev(`"requestObject":` + nested("[", "]", maxDepth)), class: "syntax",
		msg: "malformed JSON at byte 10105: invalid character '[' exceeded max depth"},
	{name: "deep objects over the limit", doc: `{"a":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth+1), class: "syntax"},
	{name: "deep mixed nesting", doc: ev(`"requestObject":` + strings.Repeat(`[{"a":`, 100) + "0" + strings.Repeat("}]", 100)), class: "nil"},
	{name: "huge numbers", doc: ev(`"requestObject":{"n":1e999999,"m":-123456789012345678901234567890.5e-99999,"z":-0.0E+00}`), class: "nil"},
}

func TestDecodeEdgeCases(t *testing.T) {
	for _, tc := range edgeCases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Decode([]byte(tc.doc), nil)
			if got := errClass(err); got != tc.class {
				t.Fatalf("error %v (%s), want class %s", err, got, tc.class)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("error %q,\nwant   %q", err, tc.msg)
			}
			var unr *UnrecognisedError
			if errors.As(err, &unr) && len(evs) > 0 && tc.class == "unrecognised" {
				t.Errorf("unrecognised document decoded %d events", len(evs))
			}
			if tc.check != nil {
				tc.check(t, evs)
			}
		})
	}
}

// maskFields is one string field per length given, decoded (userAgent,
// repeated) and skipped (unknown keys) in turn, so that each ends at a
// different offset within its block.
func maskFields(lens ...int) string {
	var b strings.Builder
	for i, n := range lens {
		if i > 0 {
			b.WriteByte(',')
		}
		key := "userAgent"
		if i%2 == 1 {
			key = "x" + strings.Repeat("y", i)
		}
		b.WriteString(`"` + key + `":"` + strings.Repeat("z", n) + `"`)
	}
	return b.String()
}
