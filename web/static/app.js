// The page of `make web` (web/server.py serves it and its JSON API; nothing else is loaded).
// Each tab sends its sliders' values as they move; one request per tab is in flight at a
// time and only the newest values are sent next, so the picture follows the slider at the
// speed the CPU allows. Every status line says how long the last update took.
"use strict";

const $ = (id) => document.getElementById(id);
let INFO = null;
// Notes on what an upload's conversion did (16-bit, alpha), shown while that photo is.
const photoNotes = {};

// Sliders run 0..1000 on a log scale between the model's trained bounds.
function logValue(slider, range) {
  const t = Number(slider.value) / Number(slider.max);
  return Math.exp(Math.log(range[0]) + t * (Math.log(range[1]) - Math.log(range[0])));
}
function setLogSlider(slider, range, value) {
  const t = (Math.log(value) - Math.log(range[0])) / (Math.log(range[1]) - Math.log(range[0]));
  slider.value = String(Math.round(Math.min(1, Math.max(0, t)) * Number(slider.max)));
}
const fmt = (value, digits) => (value === null || value === undefined ? "n/a" : value.toFixed(digits));
const sig = (value) => Number(value.toPrecision(4)).toString();

function showError(tab, message) {
  const box = $(tab + "-error");
  box.textContent = message;
  box.hidden = !message;
}
function showNotes(tab, notes) {
  const box = $(tab + "-notes");
  if (!box) return;
  box.textContent = (notes || []).join(" ");
  box.hidden = !(notes && notes.length);
}

async function call(url, body, contentType) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": contentType || "application/json" },
    body: contentType ? body : JSON.stringify(body),
  });
  let reply;
  try {
    reply = await response.json();
  } catch (error) {
    throw new Error(`The server answered ${response.status} without JSON.`);
  }
  if (!response.ok) throw new Error(reply.error || `HTTP ${response.status}`);
  return reply;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : 0;
}

// One tab's update loop: `params()` reads the controls, `run(p)` asks the server and draws.
function liveTab(tab, params, run) {
  let inFlight = false;
  let pending = null;
  const latencies = [];
  const firstLatencies = [];
  const status = $(tab + "-status");
  async function pump() {
    inFlight = true;
    status.dataset.state = "busy";
    while (pending) {
      const p = pending;
      pending = null;
      const started = performance.now();
      let firstMs = null;
      const drawn = () => { if (firstMs === null) firstMs = performance.now() - started; };
      try {
        const detail = await run(p, () => pending !== null, drawn);
        const ms = performance.now() - started;
        latencies.push(ms);
        if (latencies.length > 10) latencies.shift();
        showError(tab, "");
        drawn();
        firstLatencies.push(firstMs);
        if (firstLatencies.length > 10) firstLatencies.shift();
        status.dataset.lastMs = String(Math.round(ms));
        status.dataset.firstMs = String(Math.round(firstMs));
        const first = firstMs < ms - 1 ? `picture in ${Math.round(firstMs)} ms, ` : "";
        status.textContent = `last update: ${first}${Math.round(ms)} ms in all, in the browser ` +
          `(${detail}); median of the last ${latencies.length}: ` +
          (first ? `picture ${Math.round(median(firstLatencies))} ms, ` : "") +
          `${Math.round(median(latencies))} ms in all`;
        status.dataset.version = String(Number(status.dataset.version) + 1);
      } catch (error) {
        showError(tab, error.message);
        status.dataset.errors = String(Number(status.dataset.errors || 0) + 1);
      }
    }
    inFlight = false;
    status.dataset.state = "idle";
  }
  return function update(overrides) {
    try {
      pending = Object.assign(params(), overrides || {});
    } catch (error) {
      showError(tab, error.message);
      return;
    }
    if (!inFlight) pump();
  };
}

function fillPhotoSelects() {
  for (const select of document.querySelectorAll(".photo-select")) {
    for (const name of INFO.photos) select.add(new Option(name, name));
  }
  for (const select of document.querySelectorAll(".size-select")) {
    for (const side of INFO.preview_sides) select.add(new Option(String(side), String(side)));
    select.value = String(INFO.default_preview_side);
  }
}

// Uploads go to /api/upload as raw bytes; the photo then joins every tab's list.
function wireUpload(tab, update) {
  $(tab + "-upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (file.size > INFO.max_upload_bytes) {
      showError(tab, `The file is ${(file.size / 2 ** 20).toFixed(1)} MiB; the limit is ` +
        `${INFO.max_upload_bytes / 2 ** 20} MiB. Upload a smaller image.`);
      return;
    }
    try {
      const reply = await call("/api/upload", await file.arrayBuffer(), "application/octet-stream");
      for (const select of document.querySelectorAll(".photo-select")) {
        select.add(new Option(`${file.name} (${reply.width}x${reply.height})`, reply.photo));
      }
      photoNotes[reply.photo] = reply.notes;
      $(tab + "-photo").value = reply.photo;
      showError(tab, "");
      showNotes(tab, reply.notes);
      update();
    } catch (error) {
      showError(tab, `${file.name}: ${error.message}`);
    }
  });
}

// A text box beside a log slider: Enter sends the typed value as it is (the server checks
// it and names the range); a slider move writes its value into the box.
function wireBox(slider, box, range, update, key) {
  const fromSlider = () => { box.value = sig(logValue(slider, range)); };
  slider.addEventListener("input", () => { fromSlider(); update(); });
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const value = Number(box.value);
    // Out of range, the slider stays where its picture is; the server's message says why.
    if (value >= range[0] && value <= range[1]) setLogSlider(slider, range, value);
    update({ [key]: box.value });
  });
  fromSlider();
}

// Codec ---------------------------------------------------------------------------------
let crop = [0.5, 0.5];
function codecTab() {
  const slider = $("codec-lmbda");
  const params = () => ({
    photo: $("codec-photo").value,
    size: Number($("codec-size").value),
    lmbda: sig(logValue(slider, INFO.lmbda_range)),
    crop_x: crop[0],
    crop_y: crop[1],
  });
  const draw = (r) => {
    showNotes("codec", [...(photoNotes[r.photo] || []), ...r.notes]);
    $("codec-decoded").src = r.decoded;
    $("codec-lmbda-shown").textContent = sig(r.lmbda);
    $("codec-lmbda-shown").dataset.value = String(r.lmbda);
    for (const [label, panel] of Object.entries(r.panels)) {
      const cells = $("row-" + label).querySelectorAll("td");
      const values = [String(panel.bytes), fmt(panel.bpp, 3), fmt(panel.psnr, 2),
        r.compared ? fmt(panel.ms_ssim, 4) : "...", panel.quality === null ? sig(r.lmbda) : `q=${panel.quality}`];
      const raw = [panel.bytes, panel.bpp, panel.psnr, panel.ms_ssim, panel.quality];
      values.forEach((text, i) => { cells[i].textContent = text; cells[i].dataset.value = String(raw[i]); });
    }
    for (const label of ["JPEG", "WebP", "AVIF"]) {
      if (!(label in r.panels)) {
        for (const cell of $("row-" + label).querySelectorAll("td")) cell.textContent = "...";
      }
    }
    const crops = $("codec-crops");
    crops.replaceChildren();
    for (const [label, url] of Object.entries(r.crops)) {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = url;
      img.id = "crop-" + label;
      const caption = document.createElement("figcaption");
      const panel = r.panels[label];
      caption.textContent = panel ? `${label} ${panel.bytes} B, ${fmt(panel.psnr, 2)} dB` : label;
      figure.append(img, caption);
      crops.append(figure);
    }
    $("codec-download-yoto").href = r.downloads.yoto;
    $("codec-download-png").href = r.downloads.png;
  };
  const update = liveTab("codec", params, async (p, superseded, drawn) => {
    const original = `/photo/${encodeURIComponent(p.photo)}.png?size=${p.size}`;
    if (!$("codec-original").src.endsWith(original)) $("codec-original").src = original;
    // First the .yoto file alone (what the slider changes), then the baselines at its size.
    const fast = await call("/api/codec", Object.assign({}, p, { compare: false }));
    if (fast.target_bpp !== null) setLogSlider(slider, INFO.lmbda_range, fast.lmbda);
    $("codec-lmbda-box").value = sig(fast.lmbda);
    draw(fast);
    drawn();
    const coding = fast.cached ? "server: file kept from an earlier update" :
      `server: coding ${Math.round(fast.timing_ms.codec)} ms`;
    if (superseded()) return coding + "; baselines skipped, the slider moved on";
    const full = await call("/api/codec", Object.assign({}, p, { lmbda: fast.lmbda, target_bpp: null, compare: true }));
    draw(full);
    return `${coding}, JPEG/WebP/AVIF search and scores ` +
      `${Math.round(full.timing_ms.scores_and_baselines)} ms`;
  });
  wireBox(slider, $("codec-lmbda-box"), INFO.lmbda_range, update, "lmbda");
  const target = () => update({ target_bpp: $("codec-target").value });
  $("codec-target-go").addEventListener("click", target);
  $("codec-target").addEventListener("keydown", (e) => { if (e.key === "Enter") target(); });
  $("codec-photo").addEventListener("change", () => update());
  $("codec-size").addEventListener("change", () => update());
  $("codec-original").addEventListener("click", (event) => {
    const box = event.target.getBoundingClientRect();
    crop = [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
    update();
  });
  wireUpload("codec", update);
  return update;
}

// Style transfer ------------------------------------------------------------------------
function styleTab() {
  const holder = $("style-sliders");
  INFO.styles.forEach((style, i) => {
    const label = document.createElement("label");
    if (style.image) {
      const img = document.createElement("img");
      img.src = style.image;
      img.alt = style.name;
      label.append(img);
    }
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", id: `style-s${i + 1}`, min: "0", max: "100", step: "1" });
    slider.value = i === 0 ? "100" : "0";
    label.append(`${i + 1}: ${style.name}`, slider);
    holder.append(label);
  });
  const mixture = () => [1, 2, 3, 4].map((i) => Number($(`style-s${i}`).value) / 100);
  const showBlend = () => {
    const m = mixture();
    const total = m.reduce((a, b) => a + b, 0);
    $("style-blend").textContent = total === 0 ? "no style (all four at 0)" : "blend: " +
      m.map((v, i) => [v, INFO.styles[i].name]).filter(([v]) => v > 0)
        .map(([v, name]) => `${Math.round((100 * v) / total)}% ${name}`).join(", ");
  };
  const params = () => ({
    photo: $("style-photo").value,
    size: Number($("style-size").value),
    content: sig(logValue($("style-content"), INFO.content_range)),
    strength: sig(logValue($("style-strength"), INFO.strength_range)),
    styles: mixture(),
  });
  const update = liveTab("style", params, async (p) => {
    const original = `/photo/${encodeURIComponent(p.photo)}.png?size=${p.size}`;
    if (!$("style-original").src.endsWith(original)) $("style-original").src = original;
    const r = await call("/api/style", p);
    showNotes("style", photoNotes[p.photo]);
    $("style-output").src = r.stylized;
    $("style-weights").textContent = "(" + r.weights.map(sig).join(", ") + ")";
    $("style-weights").dataset.value = JSON.stringify(r.weights);
    return `server: network ${Math.round(r.timing_ms.model)} ms`;
  });
  wireBox($("style-content"), $("style-content-box"), INFO.content_range, update, "content");
  wireBox($("style-strength"), $("style-strength-box"), INFO.strength_range, update, "strength");
  for (let i = 1; i <= 4; i++) {
    $(`style-s${i}`).addEventListener("input", () => { showBlend(); update(); });
  }
  $("style-even").addEventListener("click", () => {
    for (let i = 1; i <= 4; i++) $(`style-s${i}`).value = "25";
    showBlend();
    update();
  });
  $("style-photo").addEventListener("change", () => update());
  $("style-size").addEventListener("change", () => update());
  wireUpload("style", update);
  showBlend();
  return update;
}

// beta-VAE ------------------------------------------------------------------------------
function vaeTab() {
  const slider = $("vae-beta");
  setLogSlider(slider, INFO.beta_range, 4);
  const params = () => ({ beta: sig(logValue(slider, INFO.beta_range)) });
  const update = liveTab("vae", params, async (p) => {
    const r = await call("/api/vae", p);
    $("vae-digits").src = r.digits;
    $("vae-reconstructions").src = r.reconstructions;
    $("vae-samples").src = r.samples;
    $("vae-beta-shown").textContent = sig(r.beta);
    $("vae-reconstruction").textContent = fmt(r.terms.reconstruction, 2);
    $("vae-kl").textContent = fmt(r.terms.kl, 2);
    return `server ${Math.round(r.timing_ms.total)} ms`;
  });
  wireBox(slider, $("vae-beta-box"), INFO.beta_range, update, "beta");
  return update;
}

// Tabs: the URL's #codec / #style / #vae; a tab draws its first picture when first shown.
const started = {};
const updaters = {};
function showTab() {
  const name = (location.hash || "#codec").slice(1);
  const tab = ["codec", "style", "vae"].includes(name) ? name : "codec";
  for (const section of document.querySelectorAll(".panel")) {
    section.classList.toggle("active", section.id === tab);
  }
  for (const link of document.querySelectorAll("nav a.tab")) {
    link.classList.toggle("active", link.id === "tab-" + tab);
  }
  if (!started[tab]) {
    started[tab] = true;
    updaters[tab]();
  }
}

async function main() {
  try {
    const response = await fetch("/api/info");
    INFO = await response.json();
  } catch (error) {
    $("footer").textContent = `The server did not answer (${error.message}); is make web running?`;
    return;
  }
  fillPhotoSelects();
  updaters.codec = codecTab();
  updaters.style = styleTab();
  updaters.vae = vaeTab();
  $("footer").textContent = `lambda in [${INFO.lmbda_range.map(sig).join(", ")}], content ` +
    `weight in [${INFO.content_range.map(sig).join(", ")}], style strength in ` +
    `[${INFO.strength_range.map(sig).join(", ")}], beta in [${INFO.beta_range.map(sig).join(", ")}]. ` +
    `Uploads: up to ${INFO.max_upload_bytes / 2 ** 20} MiB and ${INFO.max_pixels / 1e6} megapixels ` +
    "(refused above); every model works on a preview downscaled to the chosen shorter side.";
  window.addEventListener("hashchange", showTab);
  showTab();
  document.body.dataset.ready = "true";
}

main();
