package scoring

import (
	"context"
	"errors"
	"strconv"
	"testing"
)

func TestDecimal(t *testing.T) {
	tests := []struct {
		id   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"1234567890123456789", 1234567890123456789, true},
		{"", 0, false}, {"007", 0, false}, {"12a", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{"12345678901234567890", 0, false}, // 20 digits may not fit
	}
	for _, tt := range tests {
		if got, ok := decimal(tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("decimal(%q) = %d, %v; want %d, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
	// "7" and "007" are different ids and must stay apart.
	x := newIDMap()
	x.set("7", 1)
	x.set("007", 2)
	if a, _ := x.get("7"); a != 1 {
		t.Errorf(`get("7") = %d, want 1`, a)
	}
	if b, _ := x.get("007"); b != 2 {
		t.Errorf(`get("007") = %d, want 2`, b)
	}
	if _, ok := x.get("8"); ok {
		t.Error(`get("8") found an id never set`)
	}
}

func TestDealIndex(t *testing.T) {
	var x dealIndex
	for i := range 1000 {
		x.add(uint16(i%2), strconv.Itoa(i), int32(i))
	}
	x.add(0, "10", -1) // a later deal with the same key wins
	x.add(1, "10", 77) // same id, other connector
	x.build()
	tests := []struct {
		conn uint16
		id   string
		want int32
		ok   bool
	}{
		{0, "0", 0, true}, {1, "999", 999, true}, {0, "10", -1, true}, {1, "10", 77, true},
		{1, "0", -1, false}, {0, "1000", -1, false}, {0, "", -1, false},
	}
	for _, tt := range tests {
		if got, ok := x.client(tt.conn, tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("client(%d, %q) = %d, %v; want %d, %v", tt.conn, tt.id, got, ok, tt.want, tt.ok)
		}
	}
	if got := string(x.id(3)); got != "3" {
		t.Errorf("id(3) = %q, want 3", got)
	}
}

// TestPipe checks that pipe passes every row in order, and that an error
// from add stops the scan and comes back.
func TestPipe(t *testing.T) {
	scan := func(n int) func(context.Context, func(*int) error) error {
		return func(ctx context.Context, fn func(*int) error) error {
			for i := range n {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(&i); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var got []int
	if err := pipe(context.Background(), scan(5000), func(r *int) error { got = append(got, *r); return nil }); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("row %d = %d", i, v)
		}
	}
	if len(got) != 5000 {
		t.Fatalf("got %d rows, want 5000", len(got))
	}
	boom := errors.New("boom")
	if err := pipe(context.Background(), scan(1<<30), func(r *int) error {
		if *r == 3000 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("pipe with a failing add = %v, want boom", err)
	}
	scanErr := errors.New("scan failed")
	if err := pipe(context.Background(), func(context.Context, func(*int) error) error { return scanErr }, func(*int) error { return nil }); !errors.Is(err, scanErr) {
		t.Errorf("pipe with a failing scan = %v, want %v", err, scanErr)
	}
}
