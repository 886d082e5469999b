// The upload page: pictures picked or dropped (files or whole folders) go to a new upload set
// through the API, one request per picture with its progress; each refusal shows the server's
// reason, and once the set is complete the page follows it until its sequences are published.
import { API, setupPage, t } from "./common.js";

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
    titleInput.value = folder || new Date().toLocaleString(document.documentElement.lang);
  }
  showPicked();
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

/** Sends one picture, following its progress; resolves to `{ status, body }`. */
function sendFile(setId, { file, row }) {
  const bar = row.querySelector("progress");
  const state = row.querySelector(".state");
  state.textContent = t("upload_sending");
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

function showFileOutcome({ row }, { status, body }) {
  const bar = row.querySelector("progress");
  const state = row.querySelector(".state");
  bar.value = 1;
  if (status === 202) {
    row.className = "accepted";
    state.textContent = t("upload_accepted");
    return true;
  }
  if (status === 0) {
    row.className = "rejected";
    state.textContent = t("upload_network");
    return false;
  }
  row.className = status === 409 ? "duplicate" : "rejected";
  const label = status === 409 ? t("upload_duplicate") : t("upload_rejected");
  // The message says what went wrong; the details, when there are some, say why.
  const reason = [body?.message, body?.details?.error].filter(Boolean).join(" — ");
  state.textContent = reason ? `${label}: ${reason}` : `${label} (${status})`;
  return false;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(json?.message || `${response.status} ${response.statusText}`);
  }
  return json;
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

/** Follows the upload set until its sequences are published, showing them as they come. */
async function follow(setId) {
  for (;;) {
    let set;
    try {
      const response = await fetch(`${API}/upload_sets/${setId}`);
      set = await response.json();
    } catch {
      // A lost answer (the server restarting, a network hiccup): look again later.
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    const status = set.items_status || {};
    const total = (status.prepared || 0) + (status.preparing || 0) + (status.not_processed || 0)
      + (status.broken || 0);
    const summary = document.createElement("p");
    summary.id = "progress";
    if (set.ready) {
      summary.textContent = t("upload_done");
      outcome.dataset.state = "ready";
    } else {
      summary.textContent = t("upload_processing", status.prepared || 0, total);
    }
    const heading = document.createElement("h2");
    heading.textContent = t("upload_sequences");
    outcome.replaceChildren(summary, heading, showSequences(set));
    if (set.ready) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function sendAll() {
  send.disabled = true;
  clear.disabled = true;
  pickFiles.disabled = true;
  pickFolder.disabled = true;
  outcome.replaceChildren();
  delete outcome.dataset.state;
  const sending = queue;
  queue = [];

  let set;
  try {
    set = await postJson(`${API}/upload_sets`, { title: titleInput.value || "Upload" });
  } catch (err) {
    outcome.textContent = `${t("upload_failed")}: ${err.message}`;
    outcome.dataset.state = "failed";
    return;
  }

  let accepted = 0;
  for (const entry of sending) {
    if (showFileOutcome(entry, await sendFile(set.id, entry))) {
      accepted += 1;
    }
  }
  await postJson(`${API}/upload_sets/${set.id}/complete`).catch(() => {});
  if (accepted === 0) {
    outcome.textContent = t("upload_nothing_accepted");
    outcome.dataset.state = "empty";
  } else {
    await follow(set.id);
  }
  pickFiles.disabled = false;
  pickFolder.disabled = false;
  titleInput.value = "";
  showPicked();
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
  rows.replaceChildren();
  outcome.replaceChildren();
  showPicked();
});
send.addEventListener("click", sendAll);
showPicked();
