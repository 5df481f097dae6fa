package scoring

import (
	"bytes"
	"hash/maphash"
)

// dealIndex maps every deal's (connector, id) to its client, for the
// activities that name a deal: an open-addressing table over one arena of
// ids. It takes about 25 bytes a deal, where a map[string]int32 with a
// string kept per deal takes about 45, and it is exact: keys are compared
// in full, never by hash alone.
type dealIndex struct {
	seed  maphash.Seed
	ids   []byte // every id, one after another
	ents  []dealEnt
	slots []int32 // entry+1, 0 for empty; built by build
	mask  uint64
}

// dealEnt is one deal of a dealIndex, its fields side by side so that a
// lookup touches one place.
type dealEnt struct {
	end    uint32 // of its id in ids
	client int32
	conn   uint16
}

// add appends a deal. A later deal with the same key replaces an earlier
// one, as a later record does in a map.
func (x *dealIndex) add(conn uint16, id string, client int32) int32 {
	x.ids = append(x.ids, id...)
	x.ents = append(x.ents, dealEnt{end: uint32(len(x.ids)), client: client, conn: conn})
	return int32(len(x.ents) - 1)
}

// id is entry e's id; valid until the next add.
func (x *dealIndex) id(e int32) []byte {
	var start uint32
	if e > 0 {
		start = x.ents[e-1].end
	}
	return x.ids[start:x.ents[e].end]
}

func (x *dealIndex) hash(conn uint16, id string) uint64 {
	return maphash.String(x.seed, id) ^ uint64(conn)*0x9e3779b97f4a7c15
}

// build makes the table, after the last add.
func (x *dealIndex) build() {
	x.seed = maphash.MakeSeed()
	size := uint64(8)
	for size < 2*uint64(len(x.ents)) {
		size *= 2
	}
	x.slots, x.mask = make([]int32, size), size-1
	for e := range int32(len(x.ents)) {
		id, conn := x.id(e), x.ents[e].conn
		for i := x.hash(conn, string(id)) & x.mask; ; i = (i + 1) & x.mask {
			s := x.slots[i]
			if s == 0 || x.ents[s-1].conn == conn && bytes.Equal(x.id(s-1), id) {
				x.slots[i] = e + 1
				break
			}
		}
	}
}

// client is the client of the deal (conn, id); ok is false when there is no
// such deal.
func (x *dealIndex) client(conn uint16, id string) (client int32, ok bool) {
	if len(x.slots) == 0 {
		return -1, false
	}
	for i := x.hash(conn, id) & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s == 0 {
			return -1, false
		}
		if x.ents[s-1].conn == conn && string(x.id(s-1)) == id {
			return x.ents[s-1].client, true
		}
	}
}

// idMap maps CRM ids to indexes. Ids that are decimal numbers in canonical
// form, as most CRMs' are, are keyed by their value: a lookup then compares
// integers in the table instead of following each key to its string.
type idMap struct {
	num map[uint64]int32
	str map[string]int32
}

func newIDMap() idMap { return idMap{num: map[uint64]int32{}, str: map[string]int32{}} }

// decimal is id's value when id is a decimal number with no sign and no
// leading zero (or is "0") that fits in a uint64.
func decimal(id string) (uint64, bool) {
	if len(id) == 0 || len(id) > 19 || id[0] == '0' && len(id) > 1 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

func (x idMap) get(id string) (int32, bool) {
	if id == "" {
		return -1, false
	}
	if v, ok := decimal(id); ok {
		i, ok := x.num[v]
		return i, ok
	}
	i, ok := x.str[id]
	return i, ok
}

func (x idMap) set(id string, i int32) {
	if v, ok := decimal(id); ok {
		x.num[v] = i
		return
	}
	x.str[id] = i
}

// remap replaces every index i by to[i].
func (x idMap) remap(to []int32) {
	for k, i := range x.num {
		x.num[k] = to[i]
	}
	for k, i := range x.str {
		x.str[k] = to[i]
	}
}
