package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// apiClient calls the server's public JSON API directly (not through the
// proxy) as one signed-in user: the dispatcher who sets the run up and the
// admin who checks it.
type apiClient struct {
	base  func() string
	token string
	http  *http.Client
}

func login(ctx context.Context, base func() string, login, password, device string) (*apiClient, error) {
	a := &apiClient{base: base, http: &http.Client{Timeout: time.Minute}}
	var s struct {
		AccessToken string `json:"access_token"`
	}
	body := map[string]string{"login": login, "password": password, "device_id": device, "device_name": "fieldsync chaos"}
	if err := a.do(ctx, http.MethodPost, "/v1/auth/login", nil, body, &s); err != nil {
		return nil, err
	}
	a.token = s.AccessToken
	return a, nil
}

func (a *apiClient) post(ctx context.Context, path string, in, out any) error {
	return a.do(ctx, http.MethodPost, path, nil, in, out)
}

func (a *apiClient) get(ctx context.Context, path string, q url.Values, out any) error {
	return a.do(ctx, http.MethodGet, path, q, nil, out)
}

func (a *apiClient) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	u := a.base() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("chaos: %s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}
