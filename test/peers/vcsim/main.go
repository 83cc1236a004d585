// vcsim-v2v: the project's own launcher for govmomi's vCenter simulator (Debian's
// golang-github-vmware-govmomi-dev ships the library but no vcsim command).
//
// Beyond the stock simulator it adds one fidelity fix that v2v's tests rely on:
// RetrievePropertiesEx honours options.maxObjects and hands out a token for
// ContinueRetrievePropertiesEx, as real vCenter does (vcsim 0.24 returns every
// object in one page, which would leave the client's paging path untested).
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	useTLS := flag.Bool("tls", true, "serve HTTPS")
	certFile := flag.String("tlscert", "", "PEM certificate for HTTPS (default: Go's built-in localhost certificate)")
	keyFile := flag.String("tlskey", "", "PEM key for -tlscert")
	username := flag.String("username", "", "the only user accepted (empty: any non-empty user/password)")
	password := flag.String("password", "", "password of -username")
	esx := flag.Bool("esx", false, "simulate a standalone ESXi host instead of vCenter")
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	host := flag.Int("host", 3, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	vm := flag.Int("vm", 2, "VMs per resource pool / standalone host")
	ds := flag.Int("ds", 1, "datastores")
	pg := flag.Int("pg", 1, "distributed port groups per datacenter")
	autostart := flag.Bool("autostart", true, "power on the VMs the model creates")
	pageLimit := flag.Int("max-page", 0, "upper bound on objects per RetrievePropertiesEx page, even without maxObjects (0: none)")
	flag.Parse()

	model := simulator.VPX()
	if *esx {
		model = simulator.ESX()
	} else {
		model.Datacenter = *dc
		model.Cluster = *cluster
		model.ClusterHost = *host
		model.Host = *standalone
		model.Portgroup = *pg
	}
	model.Machine = *vm
	model.Datastore = *ds
	model.Autostart = *autostart
	defer model.Remove()
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}

	model.Service.Listen = &url.URL{Host: *listen}
	if *username != "" {
		model.Service.Listen.User = url.UserPassword(*username, *password)
	}
	if *useTLS {
		model.Service.TLS = new(tls.Config)
		if *certFile != "" {
			cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
			if err != nil {
				log.Fatal(err)
			}
			model.Service.TLS.Certificates = []tls.Certificate{cert}
		}
	}
	model.Service.RegisterEndpoints = true
	server := model.Service.NewServer()
	defer server.Close()
	server.Config.Handler = &pager{next: server.Config.Handler, limit: *pageLimit, pages: map[string]pending{}}

	u := *server.URL
	u.User = nil
	fmt.Printf("VCSIM_URL=%s\n", u.String())
	for _, d := range datastoreDirs() {
		fmt.Printf("VCSIM_DATASTORE=%s\n", d)
	}
	fmt.Printf("VCSIM_PID=%d\n", os.Getpid())
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

// datastoreDirs lists the local directories behind the simulated datastores.
func datastoreDirs() []string {
	var dirs []string
	for _, ref := range simulator.Map.All("Datastore") {
		if ds, ok := ref.(*simulator.Datastore); ok {
			dirs = append(dirs, ds.Summary.Name+"="+ds.Info.GetDatastoreInfo().Url)
		}
	}
	return dirs
}

// pager splits RetrievePropertiesEx results into pages of maxObjects and serves
// the rest through ContinueRetrievePropertiesEx / CancelRetrievePropertiesEx.
type pager struct {
	next  http.Handler
	limit int
	mu    sync.Mutex
	seq   int
	pages map[string]pending
}

// pending is what a token still owes: the remaining <objects> elements and the
// page size the first call asked for.
type pending struct {
	rest []string
	size int
}

// element returns the text of the first <name> element, whatever its namespace prefix.
func element(s, name string) (string, bool) {
	m := regexp.MustCompile(`<(?:[\w-]+:)?` + name + `(?:\s[^>]*)?>([^<]*)</`).FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/sdk") {
		p.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	req := string(body)
	if tok, ok := element(req, "token"); ok && strings.Contains(req, "ContinueRetrievePropertiesEx") {
		p.continueFrom(w, tok)
		return
	}
	if strings.Contains(req, "CancelRetrievePropertiesEx") {
		if tok, ok := element(req, "token"); ok {
			p.mu.Lock()
			delete(p.pages, tok)
			p.mu.Unlock()
		}
		writeSOAP(w, `<CancelRetrievePropertiesExResponse xmlns="urn:vim25"></CancelRetrievePropertiesExResponse>`)
		return
	}
	max := 0
	if strings.Contains(req, "RetrievePropertiesEx") {
		if v, ok := element(req, "maxObjects"); ok {
			max, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if p.limit > 0 && (max == 0 || max > p.limit) {
			max = p.limit
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if max <= 0 {
		p.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	resp := rec.Body.String()
	objs, head, tail := splitObjects(resp)
	if rec.Code != http.StatusOK || len(objs) <= max {
		copyHeaders(w, rec)
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	token := p.store(objs[max:], max)
	copyHeaders(w, rec)
	w.WriteHeader(rec.Code)
	io.WriteString(w, head+strings.Join(objs[:max], "")+"<token>"+token+"</token>"+tail)
}

func copyHeaders(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
}

func (p *pager) store(rest []string, size int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	token := "page-" + strconv.Itoa(p.seq)
	p.pages[token] = pending{rest: rest, size: size}
	return token
}

func (p *pager) continueFrom(w http.ResponseWriter, token string) {
	p.mu.Lock()
	next, ok := p.pages[token]
	delete(p.pages, token)
	p.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, soapEnvelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>invalid token</faultstring><detail><InvalidArgumentFault xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="InvalidArgument"><invalidProperty>token</invalidProperty></InvalidArgumentFault></detail></soapenv:Fault>`))
		return
	}
	page, more := next.rest, ""
	if len(next.rest) > next.size {
		page = next.rest[:next.size]
		more = "<token>" + p.store(next.rest[next.size:], next.size) + "</token>"
	}
	writeSOAP(w, `<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval>`+strings.Join(page, "")+more+`</returnval></ContinueRetrievePropertiesExResponse>`)
}

func splitObjects(resp string) (objs []string, head, tail string) {
	first := strings.Index(resp, "<objects>")
	if first < 0 {
		return nil, resp, ""
	}
	head = resp[:first]
	rest := resp[first:]
	for strings.HasPrefix(rest, "<objects>") {
		end := strings.Index(rest, "</objects>")
		if end < 0 {
			break
		}
		end += len("</objects>")
		objs = append(objs, rest[:end])
		rest = rest[end:]
	}
	return objs, head, rest
}

func soapEnvelope(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`
}

func writeSOAP(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, soapEnvelope(body))
}
