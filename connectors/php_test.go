package connectors

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestListAndDecodeObject(t *testing.T) {
	type item struct {
		ID int `json:"id"`
	}
	for _, tc := range []struct {
		in      string
		want    List[item]
		wantErr bool
	}{
		{`[{"id":1},{"id":2}]`, List[item]{{1}, {2}}, false},
		{`{"5":{"id":3},"0":{"id":4}}`, List[item]{{3}, {4}}, false}, // order written
		{`{}`, List[item]{}, false},
		{`null`, nil, false},
		{`"x"`, nil, true},
	} {
		var got struct {
			L List[item] `json:"l"`
		}
		err := json.Unmarshal([]byte(`{"l":`+tc.in+`}`), &got)
		if (err != nil) != tc.wantErr || (!tc.wantErr && !cmp.Equal(tc.want, got.L)) {
			t.Errorf("List %s = %v, %v; want %v (error %v)", tc.in, got.L, err, tc.want, tc.wantErr)
		}
	}
	for _, tc := range []struct {
		in      string
		want    item
		wantErr bool
	}{
		{`{"id":7}`, item{7}, false},
		{`[]`, item{}, false},
		{`null`, item{}, false},
		{``, item{}, false},
		{`[{"id":7}]`, item{}, true},
	} {
		var got item
		err := DecodeObject([]byte(tc.in), &got)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("DecodeObject(%s) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestMap: Bitrix24's batch answers key each command's result by the
// command's name, as an object, but an empty one comes as [] and a
// portal may write a list.
func TestMap(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Map
		wantErr bool
	}{
		{`{"c00":1,"c01":[2]}`, Map{"c00": json.RawMessage(`1`), "c01": json.RawMessage(`[2]`)}, false},
		{`[]`, Map{}, false},
		{`null`, Map{}, false},
		{`[{"a":1},3]`, Map{"0": json.RawMessage(`{"a":1}`), "1": json.RawMessage(`3`)}, false},
		{`"x"`, nil, true},
	} {
		var got Map
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
	}
}
