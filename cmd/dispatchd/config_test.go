package main

import (
	"strings"
	"testing"
)

// TestConfigPolicy: the ranking policy comes from -policy over
// DISPATCH_POLICY over the default, and an unknown name is refused.
func TestConfigPolicy(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    string
		wantErr string
	}{
		{"default", nil, "", "responders", ""},
		{"environment", nil, "closest", "closest", ""},
		{"flag", []string{"-policy", "closest"}, "", "closest", ""},
		{"flag over environment", []string{"-policy", "responders"}, "closest", "responders", ""},
		{"unknown", []string{"-policy", "nearest"}, "", "", `-policy / DISPATCH_POLICY: unknown policy "nearest" (responders, closest)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig("test", tt.args, func(k string) string {
				if k == "DISPATCH_POLICY" {
					return tt.env
				}
				return ""
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || cfg.Policy != tt.want {
				t.Fatalf("policy %q (%v), want %q", cfg.Policy, err, tt.want)
			}
		})
	}
}
