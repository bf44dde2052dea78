package web

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestDecodeClientMessage(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		typ  string
		kind string
	}{
		{`{"type":"hello","after":0}`, true, MsgHello, ""},
		{`{"type":"hello","after":-1}`, true, MsgHello, ""},
		{`{"type":"hello","after":123456789012}`, true, MsgHello, ""},
		{`{"type":"hello"}`, true, MsgHello, ""},
		{`{"type":"hello","after":-2}`, false, "", ""},
		{`{"type":"hello","after":1.5}`, false, "", ""},
		{`{"type":"hello","after":"1"}`, false, "", ""},
		{`{"type":"action","id":"c1","action":{"kind":"accept","incident":"I","unit":"U"}}`, true, MsgAction, "accept"},
		{`{"type":"action","id":"c1","action":{"kind":"accept","incident":"I","team":"other"}}`, true, MsgAction, "accept"},
		{`{"type":"action","id":"","action":{"kind":"accept"}}`, false, "", ""},
		{`{"type":"action","id":"c1"}`, false, "", ""},
		{`{"type":"action","id":"c1","action":{}}`, false, "", ""},
		{`{"type":"action","id":"c1","action":null}`, false, "", ""},
		{`{"type":"bye"}`, false, "", ""},
		{`{}`, false, "", ""},
		{`[]`, false, "", ""},
		{`null`, false, "", ""},
		{``, false, "", ""},
		{`{"type":"hello","after":0} {"type":"hello"}`, false, "", ""},
		{`{"type":"hello","after":0}}`, false, "", ""},
		{"{\"type\":\"hello\",\"after\":0,\"x\":\"\xff\"}", false, "", ""},
	}
	for _, tc := range cases {
		m, err := DecodeClientMessage([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Errorf("%q: %v is not ErrBadMessage", tc.in, err)
			}
			continue
		}
		if m.Type != tc.typ || (m.Action != nil && m.Action.Kind != tc.kind) {
			t.Errorf("%q: decoded %+v", tc.in, m)
		}
		if m.Action != nil && m.Action.Team != "" {
			t.Errorf("%q: the client set the server-owned team %q", tc.in, m.Action.Team)
		}
	}
}

// FuzzDecodeClientMessage: the decoder never panics, and what it accepts
// re-encodes to a message it decodes the same way.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","after":0}`,
		`{"type":"hello","after":-1}`,
		`{"type":"action","id":"c1","action":{"kind":"swap","incident":"I","unit":"U","new_unit":"V"}}`,
		`{"type":"action","id":"c2","action":{"kind":"locate","incident":"I","lat":22.5,"lng":113.4}}`,
		`{"type":"action","id":"c1","action":{"kind":"accept"}} `,
		`{"type":"x"}`, `[`, `"hello"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeClientMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v is not ErrBadMessage", err)
			}
			return
		}
		if m.Type != MsgHello && m.Type != MsgAction {
			t.Fatalf("accepted type %q", m.Type)
		}
		if m.Type == MsgAction && (m.Action == nil || m.Action.Kind == "" || m.ID == "") {
			t.Fatalf("accepted an incomplete action %+v", m)
		}
		if m.Type == MsgHello && m.After < -1 {
			t.Fatalf("accepted after %d", m.After)
		}
		re, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := DecodeClientMessage(re)
		if err != nil {
			t.Fatalf("re-encoded %s refused: %v", re, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %+v != %+v", m, m2)
		}
	})
}
