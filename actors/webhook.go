package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// webhookQueue bounds the alerts waiting to be sent; more are dropped
// (with a log line): an alert never holds up a call.
const webhookQueue = 64

// DefaultWebhookTimeout bounds one alert POST.
const DefaultWebhookTimeout = 10 * time.Second

// WebhookSender POSTs alerts as JSON to a webhook URL
// (general_settings.alerting_webhook_url), one at a time on its own
// goroutine, started on the first alert. Send never blocks. The URL is a
// secret: it is never logged, and errors name only the alert's event.
type WebhookSender struct {
	log     *slog.Logger
	client  *http.Client
	once    sync.Once
	queue   chan webhookItem
	timeout time.Duration
}

type webhookItem struct {
	url   string
	alert any
}

// NewWebhookSender returns a sender; timeout 0 is DefaultWebhookTimeout.
func NewWebhookSender(log *slog.Logger, timeout time.Duration) *WebhookSender {
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	return &WebhookSender{log: log, timeout: timeout, client: &http.Client{Timeout: timeout},
		queue: make(chan webhookItem, webhookQueue)}
}

// Send queues alert for url, or drops it when the queue is full.
func (w *WebhookSender) Send(url string, alert any) {
	w.once.Do(func() { go w.run() })
	select {
	case w.queue <- webhookItem{url, alert}:
	default:
		w.log.Warn("alerting webhook queue full; an alert was dropped", "event", eventOf(alert))
	}
}

func (w *WebhookSender) run() {
	for it := range w.queue {
		w.post(it)
	}
}

func (w *WebhookSender) post(it webhookItem) {
	body, err := json.Marshal(it.alert)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.url, bytes.NewReader(body))
	if err != nil {
		w.log.Warn("alerting_webhook_url is not a usable URL; the alert was not sent", "event", eventOf(it.alert))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		// err names the URL: log only what kind of failure it was.
		w.log.Warn("alerting webhook call failed", "event", eventOf(it.alert), "timeout", ctx.Err() != nil)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		w.log.Warn("alerting webhook answered an error", "event", eventOf(it.alert), "status", resp.StatusCode)
	}
}

func eventOf(a any) string {
	if s, ok := a.(SoftBudgetAlert); ok {
		return s.Event
	}
	return "alert"
}
