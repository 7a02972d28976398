// The public API, as the app uses it: every call carries the key from session storage (never a URL).
const KEY = "voxledger.key";

export const auth = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http_error";
  }
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

// fetch with the key; JSON in and out, unless `raw` asks for the Response itself.
export async function api(path, { method = "GET", body, headers = {}, raw = false, signal } = {}) {
  const sent = { Authorization: `Bearer ${auth.get()}`, ...headers };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: sent, body: payload, signal });
  if (!response.ok) {
    const error = new ApiError(response.status, await problemOf(response));
    if (response.status === 401) window.dispatchEvent(new CustomEvent("vl:unauthorized"));
    throw error;
  }
  return raw ? response : response.json();
}

// An upload with its progress (fetch cannot report upload progress; XMLHttpRequest can).
export function upload(file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) if (value !== "" && value != null) form.append(name, value);
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/recordings");
    xhr.setRequestHeader("Authorization", `Bearer ${auth.get()}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {}
      xhr.status === 202 ? resolve(body) : reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "network_error", detail: "the upload was interrupted" }));
    xhr.send(form);
  });
}
