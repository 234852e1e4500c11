// Shop the whole room: a photo with one dot per detected object; hovering or clicking a dot opens its product
// card, clicking the card sends {hotspot, at} back to Streamlit. A plain Streamlit component (API version 1),
// without the npm helper library. Catalogue text only ever goes through textContent; links must be http(s).
"use strict";

const stage = document.getElementById("stage");
const photo = document.getElementById("photo");
const dots = document.getElementById("dots");
const card = document.getElementById("card");
let spots = [];
let pinned = null; // the hotspot whose card stays open after a click
let shown = null;
let hideTimer = null;
let lastKey = null;

function send(type, data) {
  window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
}

function setHeight() {
  send("streamlit:setFrameHeight", {height: Math.ceil(stage.getBoundingClientRect().height) + 4});
}

function liveUrl(text) {
  try {
    const url = new URL(String(text));
    return (url.protocol === "http:" || url.protocol === "https:") && url.host ? url.href : null;
  } catch (error) {
    return null;
  }
}

function imageSrc(text) {
  return typeof text === "string" && text.startsWith("data:image/") ? text : "";
}

function fitToScreen(aspect) {
  let viewport = window.screen.availHeight * 0.8;
  try {
    viewport = window.parent.innerHeight * 0.86; // same-origin iframe: the app's visible height
  } catch (error) { /* cross-origin: keep the screen estimate */ }
  stage.style.maxWidth = Math.max(320, Math.floor(viewport * aspect)) + "px";
}

function place(index) {
  const spot = spots[index];
  const wide = stage.clientWidth;
  const high = stage.clientHeight;
  const x = spot.x * wide;
  const y = spot.y * high;
  const width = card.offsetWidth;
  const height = card.offsetHeight;
  const left = x + 30 + width <= wide ? x + 30 : Math.max(0, x - 30 - width);
  card.style.left = left + "px";
  card.style.top = Math.min(Math.max(0, y - height / 2), Math.max(0, high - height)) + "px";
}

function openCard(index) {
  clearTimeout(hideTimer);
  const spot = spots[index];
  shown = index;
  card.querySelector(".card-thumb").src = imageSrc(spot.thumb);
  card.querySelector(".card-label").textContent = spot.label;
  card.querySelector(".card-name").textContent = spot.name;
  card.querySelector(".card-meta").textContent = [spot.price, spot.category].filter(Boolean).join(" · ");
  card.querySelector(".card-score").textContent = spot.score;
  const link = card.querySelector(".card-link");
  const href = liveUrl(spot.url);
  link.hidden = !href;
  if (href) link.href = href; else link.removeAttribute("href");
  card.setAttribute("aria-label", "See all lookalikes of " + spot.label);
  card.dataset.hotspot = String(index);
  card.hidden = false;
  dots.querySelectorAll(".dot").forEach((dot, i) => dot.classList.toggle("open", i === index));
  place(index);
}

function closeCard() {
  shown = null;
  card.hidden = true;
  dots.querySelectorAll(".dot").forEach((dot) => dot.classList.remove("open"));
}

function hideSoon() {
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => (pinned === null ? closeCard() : openCard(pinned)), 350);
}

function choose() {
  if (shown !== null) send("streamlit:setComponentValue", {value: {hotspot: shown, at: Date.now()}, dataType: "json"});
}

function drawDots() {
  dots.replaceChildren();
  spots.forEach((spot, index) => {
    const dot = document.createElement("button");
    dot.className = "dot";
    dot.type = "button";
    dot.textContent = String(index + 1);
    dot.dataset.hotspot = String(index);
    dot.setAttribute("aria-label", spot.label + ": " + spot.name);
    dot.style.left = (100 * spot.x).toFixed(3) + "%";
    dot.style.top = (100 * spot.y).toFixed(3) + "%";
    dot.addEventListener("mouseenter", () => openCard(index));
    dot.addEventListener("focus", () => openCard(index));
    dot.addEventListener("mouseleave", hideSoon);
    dot.addEventListener("click", () => {
      pinned = pinned === index ? null : index;
      openCard(index);
    });
    dots.appendChild(dot);
  });
}

card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
card.addEventListener("mouseleave", hideSoon);
card.addEventListener("click", (event) => {
  if (!event.target.closest(".card-link")) choose();
});
card.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    choose();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    pinned = null;
    closeCard();
  }
});

function render(args) {
  const key = args.photo_key + "|" + (args.hotspots || []).length;
  spots = Array.isArray(args.hotspots) ? args.hotspots : [];
  fitToScreen(Number(args.aspect) || 1.5);
  if (key !== lastKey) {
    lastKey = key;
    pinned = null;
    closeCard();
    photo.src = imageSrc(args.photo);
    drawDots();
  }
  stage.dataset.hotspots = String(spots.length);
  setHeight();
}

window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") render(event.data.args || {});
});
photo.addEventListener("load", setHeight);
new ResizeObserver(() => {
  setHeight();
  if (shown !== null) place(shown);
}).observe(stage);
send("streamlit:componentReady", {apiVersion: 1});
