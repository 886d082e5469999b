// The upload page: pictures picked or dropped (files or whole folders) go to a new upload set
// through the API, one request per picture with its progress; each refusal shows the server's
// reason, and once the set is complete the page follows it until its sequences are published.
// Network and server errors are tried again for about a minute; what still fails can be sent
// again, or the upload finished with what the server received.
import { API, labelled, setupPage, t } from "./common.js";

setupPage("upload");
const drop = document.getElementById("drop");
const pickFiles = document.getElementById("pick-files");
const pickFolder = document.getElementById("pick-folder");
const titleInput = document.getElementById("title");
const send = document.getElementById("send");
const clear = document.getElementById("clear");
const picked = document.getElementById("picked");
const rows = document.getElementById("files");
const outcome = document.getElementById("outcome");
const summary = document.getElementById("summary");

/** Pictures waiting to be sent: `{ file, row }` in the order they were picked. */
let queue = [];
/** How long the page waits between two looks at the upload set's progress. */
const POLL_MS = 1000;

function showPicked() {
  picked.textContent = t("upload_files_picked", queue.length);
  send.disabled = queue.length === 0;
  clear.disabled = queue.length === 0;
}

function addFiles(files, folder) {
  for (const file of files) {
    const row = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.webkitRelativePath || file.name;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = t("upload_waiting");
    row.append(name, bar, state);
    rows.append(row);
    queue.push({ file, row });
  }
  if (!titleInput.value) {
    titleInput.value = folder || defaultTitle();
  }
  showPicked();
}

/** A title naming the moment, the same in every language: "2026-12-04 20:12". */
function defaultTitle() {
  const now = new Date();
  const two = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())} `
    + `${two(now.getHours())}:${two(now.getMinutes())}`;
}

/** Every file under a dropped entry, folders read recursively. */
async function entryFiles(entry) {
  if (entry.isFile) {
    return [await new Promise((resolve, reject) => entry.file(resolve, reject))];
  }
  const reader = entry.createReader();
  const files = [];
  // A folder reader hands its entries out in batches, until an empty one.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) {
      return files;
    }
    for (const child of batch) {
      files.push(...(await entryFiles(child)));
    }
  }
}

async function onDrop(event) {
  event.preventDefault();
  drop.classList.remove("over");
  const entries = [...event.dataTransfer.items]
    .map((item) => item.webkitGetAsEntry?.())
    .filter(Boolean);
  if (entries.length === 0) {
    addFiles(event.dataTransfer.files);
    return;
  }
  const files = [];
  for (const entry of entries) {
    files.push(...(await entryFiles(entry)));
  }
  const folder = entries.length === 1 && entries[0].isDirectory ? entries[0].name : "";
  files.sort((a, b) => a.name.localeCompare(b.name));
  addFiles(files, folder);
}

/**
 * How long to wait before each new try of a request that met a network error or a server
 * error (5xx), in seconds: about a minute in all, enough for a server to restart.
 */
const RETRY_DELAYS_S = [1, 2, 4, 8, 15, 30];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether an answer is worth trying again: no answer at all, or a server error. */
const isTransient = (status) => status === 0 || status >= 500;

/**
 * Runs `attempt` (resolving to `{ status, body }`) until it gets an answer that is not
 * transient or the delays run out; `waiting(seconds)` is told before each pause.
 */
async function withRetry(attempt, waiting = () => {}) {
  let answer = await attempt();
  for (const delay of RETRY_DELAYS_S) {
    if (!isTransient(answer.status)) {
      break;
    }
    waiting(delay);
    await sleep(delay * 1000);
    answer = await attempt();
  }
  return answer;
}

/** Sends one picture once, following its progress; resolves to `{ status, body }`. */
function sendFileOnce(setId, { file, row }) {
  const bar = row.querySelector("progress");
  const state = row.querySelector(".state");
  state.textContent = t("upload_sending");
  bar.value = 0;
  const form = new FormData();
  form.append("file", file, file.name);
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${API}/upload_sets/${setId}/files`);
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.value = event.loaded / event.total;
      }
    });
    request.addEventListener("load", () => {
      resolve({ status: request.status, body: request.response });
    });
    request.addEventListener("error", () => resolve({ status: 0, body: null }));
    request.send(form);
  });
}

/** Sends one picture, trying again while the server is unreachable or failing. */
function sendFile(setId, entry) {
  const state = entry.row.querySelector(".state");
  return withRetry(
    () => sendFileOnce(setId, entry),
    (seconds) => {
      state.textContent = t("upload_retrying", seconds);
    },
  );
}

/** Shows how the server answered a picture and records it as the entry's `outcome`. */
function showFileOutcome(entry, { status, body }) {
  const { row } = entry;
  const bar = row.querySelector("progress");
  const state = row.querySelector(".state");
  bar.value = 1;
  if (status === 202) {
    entry.outcome = "accepted";
    state.textContent = t("upload_accepted");
  } else if (isTransient(status)) {
    entry.outcome = "failed";
    state.textContent = status === 0 ? t("upload_network") : t("upload_server_error", status);
  } else {
    entry.outcome = status === 409 ? "duplicate" : "rejected";
    const label = status === 409 ? t("upload_duplicate") : t("upload_rejected");
    // The message says what went wrong; the details, when there are some, say why (often
    // a list, one line each, which the page keeps).
    const reason = [body?.message, body?.details?.error].filter(Boolean).join(" — ");
    state.textContent = reason ? labelled(label, reason) : `${label} (${status})`;
  }
  row.className = entry.outcome;
}

/** Marks a picture left unsent because the server stopped answering. */
function showUnsent(entry) {
  entry.outcome = "failed";
  entry.row.className = "failed";
  entry.row.querySelector(".state").textContent = t("upload_not_tried");
}

/** The upload in progress or last made: its set and every picture sent to it. */
let upload = null;

/** Counts of the current upload's pictures by outcome, shown above the list. */
function showSummary() {
  if (!upload) {
    summary.hidden = true;
    return;
  }
  const count = (...outcomes) => upload.entries.filter((e) => outcomes.includes(e.outcome)).length;
  const refused = count("rejected");
  const failed = count("failed");
  const sent = count("accepted", "duplicate", "rejected");
  summary.textContent = t("upload_summary", sent, upload.entries.length, refused, failed);
  summary.hidden = false;
}

async function postJson(url, body) {
  const answer = await withRetry(async () => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await response.json().catch(() => null);
      return { status: response.status, statusText: response.statusText, body: json };
    } catch {
      return { status: 0, body: null };
    }
  });
  if (answer.status < 200 || answer.status >= 300) {
    const fallback = answer.status ? `${answer.status} ${answer.statusText}` : t("upload_network");
    throw new Error(answer.body?.message || fallback);
  }
  return answer.body;
}

function showSequences(set) {
  const list = document.createElement("ul");
  list.id = "sequences";
  for (const collection of set.associated_collections || []) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/?sequence=${encodeURIComponent(collection.id)}`;
    link.textContent = collection.title || collection.id;
    const state = collection.ready ? t("upload_sequence_ready") : t("upload_sequence_preparing");
    item.append(link, ` · ${t("sequences_pictures", collection.nb_items ?? 0)} · ${state}`);
    item.dataset.ready = String(Boolean(collection.ready));
    list.append(item);
  }
  return list;
}

/**
 * Follows the upload set until its sequences are published, showing them as they come. Stops
 * when another upload starts or the list is cleared (`run` is then no longer `upload`).
 */
async function follow(run) {
  while (run === upload) {
    let set;
    try {
      const response = await fetch(`${API}/upload_sets/${run.set.id}`);
      set = await response.json();
      if (!response.ok) {
        throw new Error(set?.message || String(response.status));
      }
    } catch {
      // A lost answer (the server restarting, a network hiccup): say so, look again later.
      if (run === upload) {
        const lost = document.createElement("p");
        lost.id = "progress";
        lost.className = "error";
        lost.textContent = t("upload_following_lost");
        const shown = outcome.querySelector("#progress");
        if (shown) {
          shown.replaceWith(lost);
        } else {
          outcome.replaceChildren(lost);
        }
      }
      await sleep(POLL_MS);
      continue;
    }
    if (run !== upload) {
      return;
    }
    const status = set.items_status || {};
    const total = (status.prepared || 0) + (status.preparing || 0) + (status.not_processed || 0)
      + (status.broken || 0);
    const progress = document.createElement("p");
    progress.id = "progress";
    if (set.ready) {
      progress.textContent = t("upload_done");
      outcome.dataset.state = "ready";
    } else {
      progress.textContent = t("upload_processing", status.prepared || 0, total);
    }
    const heading = document.createElement("h2");
    heading.textContent = t("upload_sequences");
    outcome.replaceChildren(progress, heading, showSequences(set));
    if (set.ready) {
      return;
    }
    await sleep(POLL_MS);
  }
}

/** Locks or unlocks the page's controls while pictures are being sent. */
function setBusy(busy) {
  pickFiles.disabled = busy;
  pickFolder.disabled = busy;
  for (const button of outcome.querySelectorAll("button")) {
    button.disabled = busy;
  }
  if (busy) {
    send.disabled = true;
    clear.disabled = true;
  } else {
    showPicked();
    clear.disabled = false;
  }
}

/**
 * Sends `entries` to the current upload's set, one after the other. When a picture still
 * fails after every retry the server is taken as gone: the pictures after it are left unsent
 * rather than each waiting a minute for it.
 */
async function sendEntries(run, entries) {
  for (const [i, entry] of entries.entries()) {
    const answer = await sendFile(run.set.id, entry);
    showFileOutcome(entry, answer);
    showSummary();
    if (entry.outcome === "failed") {
      entries.slice(i + 1).forEach(showUnsent);
      showSummary();
      return;
    }
  }
}

/** After a round of sending: finish the upload, or offer to retry what failed. */
async function afterSending(run) {
  const failed = run.entries.filter((e) => e.outcome === "failed");
  if (failed.length === 0) {
    await finish(run);
    return;
  }
  const message = document.createElement("p");
  message.textContent = t("upload_unsent", failed.length);
  outcome.replaceChildren(message, retryButton(run), finishButton(run));
  outcome.dataset.state = "unsent";
  setBusy(false);
}

function retryButton(run) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "retry-failed";
  button.textContent = t("upload_retry_failed");
  button.addEventListener("click", async () => {
    setBusy(true);
    const failed = run.entries.filter((e) => e.outcome === "failed");
    for (const entry of failed) {
      entry.row.removeAttribute("class");
      entry.row.querySelector(".state").textContent = t("upload_waiting");
    }
    await sendEntries(run, failed);
    await afterSending(run);
  });
  return button;
}

function finishButton(run) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "finish";
  button.textContent = t("upload_finish");
  button.addEventListener("click", () => finish(run));
  return button;
}

/** Completes the set, so that the server makes sequences of what it received. */
async function finish(run) {
  setBusy(true);
  const received = run.entries.filter((e) => e.outcome === "accepted").length;
  try {
    await postJson(`${API}/upload_sets/${run.set.id}/complete`);
  } catch (err) {
    if (received > 0) {
      const message = document.createElement("p");
      message.className = "error";
      message.textContent = labelled(t("upload_complete_failed"), err.message);
      const retry = run.entries.some((e) => e.outcome === "failed") ? [retryButton(run)] : [];
      outcome.replaceChildren(message, ...retry, finishButton(run));
      outcome.dataset.state = "unfinished";
      setBusy(false);
      return;
    }
  }
  setBusy(false);
  if (received === 0) {
    outcome.textContent = t("upload_nothing_accepted");
    outcome.dataset.state = "empty";
    return;
  }
  outcome.replaceChildren();
  delete outcome.dataset.state;
  await follow(run);
}

async function sendAll() {
  setBusy(true);
  outcome.replaceChildren();
  delete outcome.dataset.state;
  const entries = queue;
  queue = [];

  let set;
  try {
    set = await postJson(`${API}/upload_sets`, { title: titleInput.value || defaultTitle() });
  } catch (err) {
    outcome.textContent = labelled(t("upload_failed"), err.message);
    outcome.dataset.state = "failed";
    queue = entries;
    setBusy(false);
    return;
  }
  const run = { set, entries };
  upload = run;
  titleInput.value = "";
  showSummary();
  await sendEntries(run, entries);
  await afterSending(run);
}

drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", onDrop);
pickFiles.addEventListener("change", () => {
  addFiles(pickFiles.files);
  pickFiles.value = "";
});
pickFolder.addEventListener("change", () => {
  const first = pickFolder.files[0]?.webkitRelativePath || "";
  addFiles(pickFolder.files, first.split("/")[0]);
  pickFolder.value = "";
});
clear.addEventListener("click", () => {
  queue = [];
  upload = null;
  rows.replaceChildren();
  outcome.replaceChildren();
  delete outcome.dataset.state;
  showSummary();
  showPicked();
});
send.addEventListener("click", sendAll);
showPicked();
