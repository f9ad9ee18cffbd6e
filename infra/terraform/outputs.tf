output "public_ip" {
  description = "The VM's reserved public IP: point domain_name's DNS record (A) at it."
  value       = oci_core_public_ip.tollgate.ip_address
}

output "base_url" {
  description = "Where clients send API requests (HTTPS once tollgate-enable-tls has run)."
  value       = var.domain_name == "" ? "http://${oci_core_public_ip.tollgate.ip_address}" : "https://${var.domain_name}"
}

output "admin_ui_url" {
  description = "The admin UI (user admin_user, password: terraform output -raw admin_password)."
  value       = "${var.domain_name == "" ? "http://${oci_core_public_ip.tollgate.ip_address}" : "https://${var.domain_name}"}/admin"
}

output "api_url" {
  description = "The control plane's REST API (Authorization: Bearer $(terraform output -raw admin_token))."
  value       = "${var.domain_name == "" ? "http://${oci_core_public_ip.tollgate.ip_address}" : "https://${var.domain_name}"}/v1"
}

output "ssh_command" {
  description = "Log in to the VM (from an address inside ssh_allowed_cidr)."
  value       = "ssh ubuntu@${oci_core_public_ip.tollgate.ip_address}"
}

output "grafana_tunnel" {
  description = "Grafana and Prometheus listen on the VM's loopback only: open this tunnel, then http://127.0.0.1:3000."
  value       = "ssh -N -L 3000:127.0.0.1:3000 -L 9090:127.0.0.1:9090 ubuntu@${oci_core_public_ip.tollgate.ip_address}"
}

output "instance_id" {
  description = "OCID of the VM."
  value       = oci_core_instance.tollgate.id
}

output "data_volume_id" {
  description = "OCID of the data volume (PostgreSQL, Redis, Prometheus, Grafana, certificates)."
  value       = oci_core_volume.data.id
}

output "admin_token" {
  description = "Bearer token of the REST API: terraform output -raw admin_token."
  value       = local.secrets.ADMIN_TOKEN
  sensitive   = true
}

output "admin_password" {
  description = "Password of the first admin UI user: terraform output -raw admin_password."
  value       = local.secrets.ADMIN_PASSWORD
  sensitive   = true
}

output "grafana_admin_password" {
  description = "Password of Grafana's admin user: terraform output -raw grafana_admin_password."
  value       = local.secrets.GRAFANA_ADMIN_PASSWORD
  sensitive   = true
}
