package media

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what uploads and the thumbnail worker do.
type Metrics struct {
	Bytes     prometheus.Counter
	Completed prometheus.Counter
	Resumed   prometheus.Counter
	Refused   *prometheus.CounterVec
	// ThumbsMade counts photos the worker marked as having a thumbnail,
	// made or found already stored.
	ThumbsMade prometheus.Counter
	// ThumbsFailed counts photos left without a thumbnail, by reason:
	// no_decoder (HEIC), not_image (did not decode), no_evidence (the
	// photo's object is missing), and retry (a failure that may pass: the
	// photo stays queued).
	ThumbsFailed *prometheus.CounterVec
}

// NewMetrics makes the counters and registers them with reg (nil: none;
// Metrics is a prometheus.Collector, to register later).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Bytes:        prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_bytes_received_total", Help: "Photo bytes kept from uploads."}),
		Completed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_uploads_completed_total", Help: "Uploads verified and published."}),
		Resumed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_uploads_resumed_total", Help: "Upload writes that went on from an offset above zero."}),
		Refused:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_media_uploads_refused_total", Help: "Uploads or chunks refused, by reason."}, []string{"reason"}),
		ThumbsMade:   prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_thumbnails_made_total", Help: "Photos given a thumbnail by the background worker."}),
		ThumbsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_media_thumbnails_failed_total", Help: "Thumbnails not made, by reason; retry: the photo stays queued."}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m)
	}
	return m
}

func (m *Metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.Bytes, m.Completed, m.Resumed, m.Refused, m.ThumbsMade, m.ThumbsFailed}
}

// Describe is part of prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all() {
		c.Describe(ch)
	}
}

// Collect is part of prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all() {
		c.Collect(ch)
	}
}
