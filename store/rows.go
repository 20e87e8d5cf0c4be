package store

// EachRow calls fn with each stored event of set, under the read lock one
// window at a time, as Select does: fn must not call back into the store,
// and the Row is valid only during the call. It is the walk for
// aggregates that read a few columns, where Each would copy every field of
// every event (a formatted auditID and the group lists included).
func (s *Store) EachRow(set *Set, fn func(Row)) {
	s.Select(set, func(r Row) bool {
		fn(r)
		return false
	})
}

// FieldKey is the interned ID of the value of field f, a field kept as one
// string (user, impersonated, verb, apigroup, resource, subresource,
// namespace, decision, useragent, sourceip, source): two rows have equal
// keys exactly when their values are equal, within one key generation
// (KeyGen: retention's compaction renumbers them). It panics for the
// other fields (group, code, stage, level).
func (r Row) FieldKey(f Field) uint32 {
	r.s.needCol(fieldCol[f])
	return r.c.str[fieldCol[f]].get(r.k)
}

// Field is the value of field f, one of those FieldKey takes.
func (r Row) Field(f Field) string {
	col := fieldCol[f]
	r.s.needCol(col)
	return r.s.dicts[col].str(r.c.str[col].get(r.k))
}
