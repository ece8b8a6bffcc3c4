"""Safe storage for proposal attachments, independent of the models.

- `storage`: stream an upload into the store (size limit, sha256, content-addressed layout,
  atomic rename, nothing partial left on disk), open a stored file for download.
- `kinds`: the allow-list (Kind, KINDS), archive limits and the errors of a refused file.
- `filetypes`: decide what a file is from its bytes (PDF, images, legacy Office, text and CSV).
- `archives`: zip, Office Open XML and OpenDocument inspected entry by entry (bombs, traversal, executables).
- `sanitize`: blind-review copies without author metadata, and pseudonymous names.

The package registers nothing: proposal services call these functions and keep the returned
sha256, size, kind and display name on their own attachment rows.
"""
