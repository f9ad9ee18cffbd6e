variable "repository_root" {
  description = "Path of the Tollgate repository: compose/, nginx/ and observability/ are copied from it to the VM."
  type        = string
}

variable "image_registry" {
  description = "Registry and owner of the Tollgate images, such as ghcr.io/your-org."
  type        = string
}

variable "tollgate_version" {
  description = "Tag of the Tollgate images to run."
  type        = string
}

variable "gateway_upstream" {
  description = "URL of the API the gateways protect."
  type        = string
}

variable "settings" {
  description = "Variables of the compose stack's .env that are not secret (TOLLGATE_HTTP_PORT, LOG_LEVEL, …)."
  type        = map(string)
}

variable "secrets" {
  description = "Variables of the compose stack's .env that are secret (POSTGRES_PASSWORD, ADMIN_TOKEN, …)."
  type        = map(string)
  sensitive   = true
}

variable "domain_name" {
  description = "Public DNS name of the VM; empty for plain HTTP on the IP address."
  type        = string
}

variable "letsencrypt_email" {
  description = "Contact address for Let's Encrypt; used only with domain_name."
  type        = string
}
