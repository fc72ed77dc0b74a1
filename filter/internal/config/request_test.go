package config

// fakeRequest is a match.Request over plain fields.
type fakeRequest struct {
	route, vhost, cluster, path, method, authority string
	headers                                        map[string]string
}

func (r *fakeRequest) RouteName() string   { return r.route }
func (r *fakeRequest) VirtualHost() string { return r.vhost }
func (r *fakeRequest) Cluster() string     { return r.cluster }
func (r *fakeRequest) Path() string        { return r.path }
func (r *fakeRequest) Method() string      { return r.method }
func (r *fakeRequest) Authority() string   { return r.authority }
func (r *fakeRequest) Header(name string) (string, bool) {
	v, ok := r.headers[name]
	return v, ok
}
