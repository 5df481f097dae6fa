package sync

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmkpi/crmkpi/connectors"
)

// Metrics are the sync engine's Prometheus metrics. Labels are bounded:
// connector, object, status.
type Metrics struct {
	records     *prometheus.CounterVec
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	skipped     *prometheus.CounterVec
	requests    *prometheus.CounterVec
}

// NewMetrics registers the sync metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmkpi_sync_records_total",
			Help: "Records and changes stored by sync, by connector and object.",
		}, []string{"connector", "object"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmkpi_sync_runs_total",
			Help: "Finished sync runs by connector, object and status.",
		}, []string{"connector", "object", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crmkpi_sync_duration_seconds",
			Help:    "Duration of sync runs by connector and object.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 16),
		}, []string{"connector", "object"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "crmkpi_sync_last_success_timestamp_seconds",
			Help: "Unix time of the last successful sync run by connector and object.",
		}, []string{"connector", "object"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmkpi_sync_skipped_total",
			Help: "Syncs of a connector skipped because another sync held its lock.",
		}, []string{"connector"}),
	}
	reg.MustRegister(m.records, m.runs, m.duration, m.lastSuccess, m.skipped)
	return m
}

func (m *Metrics) observeRun(connector string, obj connectors.Object, status string, r ObjectResult, now time.Time) {
	m.runs.WithLabelValues(connector, string(obj), status).Inc()
	m.duration.WithLabelValues(connector, string(obj)).Observe(r.Duration.Seconds())
	if r.Err == nil {
		m.lastSuccess.WithLabelValues(connector, string(obj)).Set(float64(now.Unix()))
	}
}

// HTTPCollector exports the counters of the connectors' HTTP clients:
// requests, retries, rate-limited answers and server errors.
type HTTPCollector struct {
	stats map[string]func() connectors.ClientStats
	descs [4]*prometheus.Desc
}

// NewHTTPCollector returns a collector over stats, keyed by connector name.
func NewHTTPCollector(stats map[string]func() connectors.ClientStats) *HTTPCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"connector"}, nil)
	}
	return &HTTPCollector{stats: stats, descs: [4]*prometheus.Desc{
		d("crmkpi_http_requests_total", "HTTP requests sent to the CRM, retries included."),
		d("crmkpi_http_retries_total", "HTTP requests retried."),
		d("crmkpi_http_rate_limited_total", "Rate-limit answers (429 and vendor equivalents) from the CRM."),
		d("crmkpi_http_server_errors_total", "5xx answers from the CRM."),
	}}
}

// Describe implements prometheus.Collector.
func (c *HTTPCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *HTTPCollector) Collect(ch chan<- prometheus.Metric) {
	for name, f := range c.stats {
		s := f()
		for i, v := range []int64{s.Requests, s.Retries, s.RateLimited, s.ServerError} {
			ch <- prometheus.MustNewConstMetric(c.descs[i], prometheus.CounterValue, float64(v), name)
		}
	}
}
