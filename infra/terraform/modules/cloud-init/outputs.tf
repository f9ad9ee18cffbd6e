output "cloud_config" {
  description = "The cloud-config document (it holds the stack's secrets)."
  value       = "#cloud-config\n${yamlencode(local.cloud_config)}"
  sensitive   = true
}

output "user_data" {
  description = "The cloud-config gzip-compressed and base64-encoded, as OCI's user_data metadata takes it (cloud-init unpacks gzip itself); compressed, the stack's files fit OCI's 32,000-byte metadata limit."
  value       = base64gzip("#cloud-config\n${yamlencode(local.cloud_config)}")
  sensitive   = true
}

output "stack_files" {
  description = "Repository files copied to the VM, relative to the repository root."
  value       = local.stack_files
}
