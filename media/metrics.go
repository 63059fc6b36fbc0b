package media

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what uploads do.
type Metrics struct {
	Bytes     prometheus.Counter
	Completed prometheus.Counter
	Resumed   prometheus.Counter
	Refused   *prometheus.CounterVec
}

// NewMetrics makes the counters and registers them with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Bytes:     prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_bytes_received_total", Help: "Photo bytes kept from uploads."}),
		Completed: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_uploads_completed_total", Help: "Uploads verified and published."}),
		Resumed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_media_uploads_resumed_total", Help: "Upload writes that went on from an offset above zero."}),
		Refused:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_media_uploads_refused_total", Help: "Uploads or chunks refused, by reason."}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.Bytes, m.Completed, m.Resumed, m.Refused)
	}
	return m
}
