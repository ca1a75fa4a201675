// #/new?dataset=ID[&from=JOB]: the job form. Sends POST /v1/jobs and shows a 400's problem+json
// `errors` next to the fields they name (and all of them in a summary at the top).

import { api } from "../api.js";
import { heading, notice, showError } from "../ui.js";
import { h } from "../util.js";
import { clearErrors, showErrors } from "./formerrors.js";
import { JobFields } from "./jobfields.js";

export function jobFormView(main, { query, signal }) {
  const form = new JobForm(signal);
  main.append(
    heading("New training job"),
    h("p", { class: "lede" }, "Pick a dataset, a model and an optimizer. Empty fields take the API's defaults."),
    form.element,
  );
  form.fields.load(query.get("dataset"), query.get("from"));
}

class JobForm {
  constructor(signal) {
    this.signal = signal;
    this.fields = new JobFields(signal);
    this.summary = h("div", { class: "form-errors", tabindex: "-1", "aria-live": "assertive" });
    this.submit = h("button", { type: "submit" }, "Start training");
    this.element = h(
      "form",
      { id: "job-form", class: "card", novalidate: true, onsubmit: (e) => this.send(e), onchange: () => this.fields.sync() },
      this.summary,
      h("div", { class: "form-grid" }, this.fields.fieldsets),
      h("div", { class: "form-actions" }, this.submit,
        h("a", { class: "button secondary", href: "#/jobs" }, "Cancel")),
    );
  }

  showErrors(err) {
    showErrors(this.element, this.summary, err, (path) => this.fields.fieldFor(path), "The job was not started");
  }

  async send(event) {
    event.preventDefault();
    clearErrors(this.element, this.summary);
    this.submit.disabled = true;
    this.submit.textContent = "Starting…";
    try {
      const job = await api.post("/v1/jobs", this.fields.body(), { signal: this.signal, idempotent: true });
      notice(`Job started: ${job.id}.`, "success", { keep: true });
      location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (err) {
      if (err.status === 400) this.showErrors(err);
      else if (err.status === 404) this.showErrors({ message: err.message, errors: [{ field: "dataset_id", message: err.message }] });
      else showError(err);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Start training";
    }
  }
}
