package s3

import (
	"context"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		want    Location
		wantErr string
	}{
		{raw: "s3://blobs?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true",
			want: Location{Bucket: "blobs", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true}},
		{raw: "s3://my.archive-1", want: Location{Bucket: "my.archive-1"}},
		{raw: "s3://blobs/", want: Location{Bucket: "blobs"}},
		{raw: "s3://AB", wantErr: "not a valid bucket name"},
		{raw: "s3://key:secret@blobs", wantErr: "holds credentials"},
		{raw: "https://blobs", wantErr: "not s3://BUCKET"},
		{raw: "s3://blobs/prefix", wantErr: "not s3://BUCKET"},
		{raw: "s3://blobs?secret=x", wantErr: `query key "secret" is unknown`},
		{raw: "s3://blobs?region=a&region=b", wantErr: `query key "region" is unknown or repeated`},
		{raw: "s3://blobs?endpoint=ftp://x", wantErr: "not an http(s) URL"},
		{raw: "s3://blobs?endpoint=http://u:p@x", wantErr: "not an http(s) URL without credentials"},
		{raw: "s3://blobs?path-style=maybe", wantErr: "not true or false"},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.raw)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURL(%q) = %+v, %v; want an error saying %q", tt.raw, got, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") && strings.Contains(tt.raw, "secret@") {
				t.Errorf("ParseURL(%q) error shows the secret: %v", tt.raw, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
		if again, err := ParseURL(got.String()); err != nil || again != got {
			t.Errorf("ParseURL(%q.String() = %q) = %+v, %v", tt.raw, got.String(), again, err)
		}
	}
}

func TestParsePeriodAndMode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]Period{"7y": {Years: 7}, "90d": {Days: 90}, "100y": {Years: 100}} {
		if got, err := ParsePeriod(s); err != nil || got != want || got.String() != s {
			t.Errorf("ParsePeriod(%q) = %+v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "y", "0d", "-1y", "7", "7w", "101y", "36501d", "1.5y"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q): no error", bad)
		}
	}
	for s, want := range map[string]string{"governance": "GOVERNANCE", "COMPLIANCE": "COMPLIANCE"} {
		if got, err := ParseMode(s); err != nil || string(got) != want {
			t.Errorf("ParseMode(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseMode("legal-hold"); err == nil {
		t.Error("ParseMode(legal-hold): no error")
	}
}

func TestLoadConfigCredentials(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-really-secret"}
	cfg, err := LoadConfig(context.Background(), Location{Bucket: "b", Region: "eu-west-3"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || cfg.Region != "eu-west-3" {
		t.Errorf("LoadConfig: region %q, credentials %q, %v", cfg.Region, creds.AccessKeyID, err)
	}
}
