package audit

// Fixed leads. The API server writes some objects' first bytes the same
// way in almost every event; comparing them whole costs less than
// decoding them key by key. Each is exactly what the general path would
// decode from the same bytes, and anything else takes the general path.

// eventLead is how the API server begins every audit.k8s.io/v1 event it
// writes, up to the next key's opening quote.
const eventLead = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","`

// eventPrefix takes eventLead at d.pos as the general path would (objBegin,
// then kind and apiVersion decoded into top), leaving d.pos at the quote
// that opens the next key; false, and nothing moved, if it is not there.
func (d *decoder) eventPrefix(top *docFields) bool {
	const kindAt, apiAt = len(`{"kind":"`), len(`{"kind":"Event","apiVersion":"`)
	if len(d.data)-d.pos < len(eventLead) || string(d.data[d.pos:d.pos+len(eventLead)]) != eventLead || d.depth >= maxDepth {
		return false
	}
	top.kind = eventLead[kindAt : kindAt+len("Event")]
	top.apiVersion = eventLead[apiAt : apiAt+len("audit.k8s.io/v1")]
	d.depth++
	d.pos += len(eventLead) - 1
	return true
}

// statusLit is the usual responseStatus, `{"metadata":{},"code":NNN}`
// with a three-digit code, decoded at once (d.pos after it); false, and
// nothing moved, for anything else.
func (d *decoder) statusLit(e *Event) bool {
	const lit = `{"metadata":{},"code":`
	rest := d.data[d.pos:]
	if len(rest) < len(lit)+4 || string(rest[:len(lit)]) != lit || rest[len(lit)+3] != '}' || d.depth+2 > maxDepth {
		return false
	}
	c0, c1, c2 := rest[len(lit)]-'0', rest[len(lit)+1]-'0', rest[len(lit)+2]-'0'
	if c0 < 1 || c0 > 9 || c1 > 9 || c2 > 9 { // unsigned: a byte below '0' wraps past 9
		return false
	}
	e.Code = int32(c0)*100 + int32(c1)*10 + int32(c2)
	d.pos += len(lit) + 4
	return true
}

// leadLit is an object's opening brace, one key and its string value, a
// comma and the next key's quote, as bytes (lit) and the value.
type leadLit struct{ lit, value string }

// decisionLits are the annotations' usual first entry.
var decisionLits = [...]leadLit{
	{`{"authorization.k8s.io/decision":"allow","`, "allow"},
	{`{"authorization.k8s.io/decision":"forbid","`, "forbid"},
}

// lead takes the first of lits found at d.pos as objBegin and that pair
// would, leaving d.pos at the next key's quote, and returns the value;
// false, and nothing moved, if none is there.
func (d *decoder) lead(lits []leadLit) (string, bool) {
	rest := d.data[d.pos:]
	if d.depth >= maxDepth {
		return "", false
	}
	for _, l := range lits {
		if len(rest) >= len(l.lit) && string(rest[:len(l.lit)]) == l.lit {
			d.depth++
			d.pos += len(l.lit) - 1
			return l.value, true
		}
	}
	return "", false
}

// leadStr is lead for an object whose first key is the API server's
// usual one with a plain string value: prefix is the brace, the key and
// the value's opening quote, and the value must be followed by `,"`.
// d.pos is left at the next key's quote.
func (d *decoder) leadStr(prefix string) (string, bool) {
	data, p := d.data, d.pos
	if len(data)-p < len(prefix)+3 || string(data[p:p+len(prefix)]) != prefix || d.depth >= maxDepth {
		return "", false
	}
	start := p + len(prefix)
	end := d.win.plainEndAt(data, start)
	if end < 0 || len(data)-end < 3 || data[end+1] != ',' || data[end+2] != '"' {
		return "", false
	}
	d.depth++
	d.pos = end + 2
	return bytesString(data[start:end]), true
}

// credentialLead begins the user's extra of most events (the client
// certificate's or token's ID, one string).
const credentialLead = `{"authentication.kubernetes.io/credential-id":["`

// skipCredential steps over an extra object that is credentialLead, a
// plain string and `"]}`; false, and nothing moved, for anything else
// (skipFast and skipSlow then decide).
func (d *decoder) skipCredential() bool {
	data, p := d.data, d.pos
	if len(data)-p < len(credentialLead)+4 || string(data[p:p+len(credentialLead)]) != credentialLead || d.depth+2 > maxDepth {
		return false
	}
	end := d.win.plainEndAt(data, p+len(credentialLead))
	if end < 0 || len(data)-end < 3 || data[end+1] != ']' || data[end+2] != '}' {
		return false
	}
	d.pos = end + 3
	return true
}
